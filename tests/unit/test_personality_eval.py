"""The personality benchmark's scoring (wiring only: SCRIPTED FAKE models that always
give the same levels)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from evals.personality_eval import CASES, run
from nodes.personality import TRAITS


def _always(level: str) -> ScriptedFakeChatModel:
    """Every trait at ``level`` ("neutral": none), quoting the user's first message."""

    def script(messages: list[BaseMessage]) -> str:
        quote = str(messages[-1].content).split("\n- ")[1]
        return json.dumps({"signals": [] if level == "neutral" else [
            {"trait": trait, "level": level, "quote": quote} for trait in TRAITS]})

    return ScriptedFakeChatModel(script=script)


def test_a_model_that_sees_nothing_keeps_every_trait_neutral(tmp_path: Path) -> None:
    summary = run(_always("neutral"), tmp_path / "p.json")["summary"]
    assert summary["unshown_traits_neutral"] == 1.0 and summary["shown_traits"] == 0.0
    assert summary["model_calls"] == sum(len(c.messages) for c in CASES)
    assert (tmp_path / "p.png").stat().st_size > 0


def test_a_model_that_sees_everything_drifts_on_every_unshown_trait(tmp_path: Path) -> None:
    summary = run(_always("high"), tmp_path / "p.json")["summary"]
    assert summary["unshown_traits_neutral"] == 0.0
    shown_high = sum(level == "high" for c in CASES for level in c.shows.values())
    shown = sum(len(c.shows) for c in CASES)
    assert summary["shown_traits"] == round(shown_high / shown, 3)
