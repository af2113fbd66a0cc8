"""Smoke run of the store benchmark on both runnable backends (tiny sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personavlm.cli import main as cli


@pytest.mark.parametrize("backend", ["networkx", "falkordb"])
def test_bench_store_reports_throughput_latency_and_no_leaks(backend: str, tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    assert cli(["bench", "store", "--backend", backend, "--turns", "200", "--users", "3",
                "--queries", "20", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["results"][0]
    assert result["turns_written"] == 200 + 2 * 20
    assert result["write_turns_per_s"] > 0
    assert result["search_ms"]["hybrid"]["p95"] > 0
    assert result["cross_user_hits"] == 0
    assert result["memory_mb"] >= 0
    assert result["forget_turn_s"] > 0
    if backend == "networkx":
        assert result["resident_kb_per_turn"] > 0
        assert 0 < result["open_read_small_user_s"] < 30


def test_bench_store_on_falkordb_in_ci_size_many_users_one_large(tmp_path: Path) -> None:
    """``bench store --backend falkordb --turns 100000 --users 1000`` scaled down by 50:
    a graph per user, 200 of them; the searches of the large one see none of the others."""
    out = tmp_path / "store.json"
    assert cli(["bench", "store", "--backend", "falkordb", "--turns", "2000", "--users", "200",
                "--queries", "50", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["results"][0]
    assert result["turns_written"] == 2000 + 199 * 200
    assert result["cross_user_hits"] == 0
    assert result["search_ms"]["hybrid"]["p95"] > 0


def test_bench_store_opens_a_store_of_many_users(tmp_path: Path) -> None:
    out = tmp_path / "open.json"
    assert cli(["bench", "store", "--open-many", "30", "10", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["users"] == 30 and result["turns_read"] == 10
    assert result["open_read_one_user_s"] > 0 and result["memories_cli_s"] > 0
