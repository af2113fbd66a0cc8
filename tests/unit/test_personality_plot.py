"""The personality PNG shows all five traits even when their scores are equal (each has a
panel and a colour of its own, found in the picture's pixels), and the turn that moved a
trait is quoted. The date labels are those of the estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from memory_work.personality import TRAITS, Personality
from personavlm.plots import COLOURS, PersonalityStep, _date_label, plot_personality

T0 = datetime(2024, 3, 2, 19, 0, tzinfo=UTC)


def steps() -> list[PersonalityStep]:
    same = dict.fromkeys(TRAITS, 3.0)  # every line on top of the others in one panel
    moved = {**same, "openness": 3.6}
    return [PersonalityStep(Personality(same, 1, T0), "Hi, I'm Maya."),
            PersonalityStep(Personality(same, 2, T0 + timedelta(minutes=5)), "I teach."),
            PersonalityStep(Personality(moved, 3, T0 + timedelta(days=49)),
                            "Back from camping in the Gerês mountains!")]


def test_every_trait_is_visible_in_the_picture(tmp_path: Path) -> None:
    path = tmp_path / "personality.png"
    plot_personality(steps(), path, "Big Five of Maya")
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=int)
    for colour in COLOURS:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        near = int((np.abs(pixels - rgb).sum(axis=2) < 30).sum())
        assert near > 200, (colour, near)


def test_dates_label_the_estimates() -> None:
    labels = [_date_label(steps(), i) for i in range(3)]
    assert labels == ["2024-03-02\n19:00", "2024-03-02\n19:05", "2024-04-20"]
