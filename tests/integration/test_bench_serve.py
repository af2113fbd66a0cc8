"""``personavlm bench serve`` on a small load: concurrent runs of two users and store
searches in flight against the real ``langgraph dev`` (a FAKE chat model) leak nothing,
lose nothing and fail nowhere (issue 27, item 10; the full load is the benchmark's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import bench_serve

pytestmark = pytest.mark.slow


def test_a_small_load_leaks_nothing_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "serve.json"
    payload = bench_serve.main(out, users=2, runs=4, searches=24, in_flight=6, notes=8)
    assert payload["leaked"] == []
    assert payload["lost"] == {"user0": 0, "user1": 0}
    assert payload["runs"]["failed"] == 0 and payload["runs"]["count"] == 8
    assert payload["store_searches"]["failed"] == 0
    assert payload["store_searches"]["count"] == 24
    assert json.loads(out.read_text())["runs"]["p95"] is not None
    assert out.with_suffix(".png").stat().st_size > 0
