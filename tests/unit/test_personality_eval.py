"""The personality benchmark's scoring (wiring only: SCRIPTED FAKE models that always
give the same levels)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from evals.personality_eval import CASES, run
from memory_work.personality import TRAITS


def _always(level: str) -> ScriptedFakeChatModel:
    """Every trait at ``level`` ("neutral": none), quoting the user's first message."""

    def script(messages: list[BaseMessage]) -> str:
        quote = str(messages[-1].content).split("\n- ")[1]
        return json.dumps({"signals": [] if level == "neutral" else [
            {"trait": trait, "level": level, "quote": quote} for trait in TRAITS]})

    return ScriptedFakeChatModel(script=script)


def test_a_model_that_sees_nothing_keeps_every_trait_neutral(tmp_path: Path) -> None:
    summary = run(_always("neutral"), tmp_path / "p.json", "model")["summary"]
    assert summary["unshown_traits_neutral"] == 1.0 and summary["shown_traits"] == 0.0
    assert summary["model_calls"] == sum(len(c.messages) for c in CASES)
    assert (tmp_path / "p.png").stat().st_size > 0


def test_a_model_that_sees_everything_drifts_on_every_unshown_trait(tmp_path: Path) -> None:
    summary = run(_always("high"), tmp_path / "p.json", "model")["summary"]
    assert summary["unshown_traits_neutral"] == 0.0
    shown_high = sum(level == "high" for c in CASES for level in c.shows.values())
    shown = sum(len(c.shows) for c in CASES)
    assert summary["shown_traits"] == round(shown_high / shown, 3)


def test_markers_need_no_model_and_score_the_assistant_sets_labels(tmp_path: Path) -> None:
    data = tmp_path / "set.json"
    sessions = [{"at": "2024-03-01 10:00", "turns": [
        "Big night out with friends again, we went out dancing till three.",
        "Hosting a party on Saturday, the more the merrier."]}]
    data.write_text(json.dumps({"version": 1, "dialogues": [
        {"id": "x1", "user_name": "Ana", "sessions": sessions, "probes": [],
         "reply_checks": [], "traits": {"extraversion": "high"}},
        {"id": "x2", "user_name": "Ben", "sessions": [{"at": "2024-03-01 10:00", "turns": [
            "I need to buy milk.", "The meeting is at noon."]}], "probes": [],
         "reply_checks": [], "traits": {}}]}))
    summary = run(None, tmp_path / "p.json", "markers", data)["summary"]
    assert summary["model_calls"] == 0
    assert summary["assistant_traits_agree"] == 1.0 and summary["assistant_listed"] == 1
    assert summary["assistant_no_strong_trait"] == 1.0


def test_a_negated_marker_counts_for_the_other_end() -> None:
    from memory_work.trait_markers import count_markers, observe_markers

    assert count_markers("I'm not worried at all, no stress.", "neuroticism") == (0, 2)
    assert observe_markers("I'm not worried at all, no stress.").neuroticism == 2
    assert observe_markers("I'm worried and stressed.").neuroticism == 4
    assert observe_markers("Do people usually worry about it?").neuroticism == 3  # asks
    assert observe_markers("I'm so stressed, what if it goes wrong?").neuroticism == 4
