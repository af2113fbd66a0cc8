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
