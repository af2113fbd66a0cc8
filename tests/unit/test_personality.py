"""The Big Five profile: the paper's EMA schedule and the words the reply prompt gets."""

from __future__ import annotations

from datetime import datetime

import pytest

from memory_work.personality import TRAITS, Personality, ema_weight

AT = datetime(2024, 3, 2, 19, 5)


def test_ema_weight_moves_from_fast_to_stable() -> None:
    assert ema_weight(0) == pytest.approx(0.5)
    assert ema_weight(25) == pytest.approx(0.7)
    assert ema_weight(50) == pytest.approx(0.9)
    assert ema_weight(500) == pytest.approx(0.9)


def test_observed_neutral_leaves_a_trait_where_it_was() -> None:
    start = Personality({**dict.fromkeys(TRAITS, 3.0), "openness": 4.0}, 10)
    observed = {**dict.fromkeys(TRAITS, 3), "extraversion": 4}
    after = start.updated(observed, AT)
    weight = ema_weight(10)
    assert after.scores["openness"] == 4.0
    assert after.scores["extraversion"] == pytest.approx(weight * 3 + (1 - weight) * 4)
    assert after.interactions == 11


def test_description_changes_only_when_a_level_changes() -> None:
    def described(openness: float) -> str:
        return Personality({**dict.fromkeys(TRAITS, 3.0), "openness": openness}, 5).describe()

    assert described(3.5) == described(3.9)  # both "high": the cached prompt stays valid
    assert described(3.9) != described(4.3)  # "very high"
    assert "openness" not in described(3.2)  # moderate traits are left out
    assert "Not enough" in Personality.neutral().describe()


def test_a_trait_counts_only_with_the_users_own_words() -> None:
    from memory_work.model_outputs import PersonalitySignals

    signals = PersonalitySignals.model_validate({"signals": [
        {"trait": "neuroticism", "level": "high", "quote": "I keep worrying about it!"},
        {"trait": "neuroticism", "level": "low", "quote": "I keep worrying"},
        {"trait": "extraversion", "level": "high", "quote": "loves big parties"},
        {"trait": "openness", "level": "low", "quote": "worrying"}]})
    scores = signals.scores(["Honestly I keep worrying about it.", "Work is fine."])
    assert scores.model_dump() == {"openness": 3, "conscientiousness": 3, "extraversion": 3,
                                   "agreeableness": 3, "neuroticism": 4}
