"""``bench agent``'s accounting with a SCRIPTED FAKE chat model (the wiring only: the
figures themselves come from the offline model): every model call of a turn is counted,
by kind, in the foreground or in the background."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain_core.messages import BaseMessage
from test_agent_wiring import PrefillingFakeChatModel, Script

from evals import bench_agent
from personavlm.demo import load_demo


def test_every_call_of_a_turn_is_counted_by_kind_and_where_it_ran(tmp_path: Path) -> None:
    script, root = load_demo()
    out = tmp_path / "agent.json"
    summary = bench_agent.main(out, tmp_path / "memory", script, root, turns=3,
                               chat=ScriptedFakeChatModel(script=Script()),
                               embedder=HashingEmbedder(), use_consolidation=True,
                               extraction_window=1)
    assert summary["turns"] == 3
    assert summary["calls_per_turn"] == round(
        summary["foreground_calls_per_turn"] + summary["background_calls_per_turn_with_prefills"],
        2)
    assert summary["calls_per_turn:extract_memory"] >= 1.0  # every statement's extraction
    assert summary["background_calls_per_turn"] >= summary["calls_per_turn:extract_memory"]
    assert summary["consolidations"] >= 1 and summary["consolidation_p50_s"] >= 0
    for key in ("first_token_p50_s", "reply_p50_s", "background_s_per_turn"):
        assert summary[key] >= 0
    logged = json.loads(out.read_text())
    assert len(logged["turns"]) == 3 and len(logged["questions"]) == len(script["questions"])
    assert all(t["foreground_calls"] + t["background_calls"] + t["prefills"]
               == sum(t["calls_by_kind"].values()) for t in logged["turns"])
    assert out.with_suffix(".png").stat().st_size > 0


def test_a_prefill_counts_only_when_it_warmed_the_context(tmp_path: Path) -> None:
    """The SCRIPTED FAKE model's prefill hook answers "warmed" (after the untimed first
    turn, and the first timed one) then "not needed": one prefill in the figures, apart
    from the calls that generate."""
    outcomes = iter(["warmed", "warmed"] + ["not needed"] * 10)

    class OnceWarmed(PrefillingFakeChatModel):
        def prefill(self, messages: list[BaseMessage]) -> str:  # type: ignore[override]
            super().prefill(messages)
            return next(outcomes)

    script, root = load_demo()
    model = OnceWarmed(script=Script())
    summary = bench_agent.main(tmp_path / "agent.json", tmp_path / "memory", script, root,
                               turns=3, chat=model, embedder=HashingEmbedder(),
                               extraction_window=3)
    assert summary["consolidations"] == 0  # the default settles a session without one
    assert len(model.prefills) >= 2 and summary["prefills_per_turn"] == round(1 / 3, 2)
    assert summary["background_calls_per_turn_with_prefills"] == pytest.approx(
        summary["background_calls_per_turn"] + 1 / 3, abs=0.011)
    assert summary["calls_per_turn:extract_memory"] <= round(2 / 3, 2)  # windows of 3
