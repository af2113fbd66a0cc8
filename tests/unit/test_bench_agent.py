"""``bench agent``'s accounting with a SCRIPTED FAKE chat model (the wiring only: the
figures themselves come from the offline model): every model call of a turn is counted,
by kind, in the foreground or in the background."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import HashingEmbedder, ScriptedFakeChatModel
from test_agent_wiring import Script

from evals import bench_agent
from personavlm.demo import load_demo


def test_every_call_of_a_turn_is_counted_by_kind_and_where_it_ran(tmp_path: Path) -> None:
    script, root = load_demo()
    out = tmp_path / "agent.json"
    summary = bench_agent.main(out, tmp_path / "memory", script, root, turns=3,
                               chat=ScriptedFakeChatModel(script=Script()),
                               embedder=HashingEmbedder())
    assert summary["turns"] == 3
    assert summary["calls_per_turn"] == round(
        summary["foreground_calls_per_turn"] + summary["background_calls_per_turn"], 2)
    assert summary["calls_per_turn:extract_memory"] >= 1.0  # every statement's extraction
    assert summary["background_calls_per_turn"] >= summary["calls_per_turn:extract_memory"]
    assert summary["consolidations"] >= 1 and summary["consolidation_p50_s"] >= 0
    for key in ("first_token_p50_s", "reply_p50_s", "background_s_per_turn"):
        assert summary[key] >= 0
    logged = json.loads(out.read_text())
    assert len(logged["turns"]) == 3 and len(logged["questions"]) == len(script["questions"])
    assert all(t["foreground_calls"] + t["background_calls"] == sum(t["calls_by_kind"].values())
               for t in logged["turns"])
    assert out.with_suffix(".png").stat().st_size > 0
