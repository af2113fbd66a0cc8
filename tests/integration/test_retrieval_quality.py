"""Hybrid search with the real models (MiniLM + cross-encoder) on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import bench_retrieval
from personavlm.cli import main as cli


@pytest.fixture(scope="module")
def sample_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bench") / "retrieval.json"
    assert cli(["bench", "retrieval", "--data", str(bench_retrieval.SAMPLE),
                "--out", str(out)]) == 0
    payload: dict[str, object] = json.loads(out.read_text())
    assert out.with_suffix(".png").stat().st_size > 1000
    return payload


def test_bench_retrieval_writes_the_documented_json(sample_result: dict[str, object]) -> None:
    assert sample_result["n"] == 10
    methods = sample_result["methods"]
    assert isinstance(methods, dict) and set(methods) == {"bm25", "dense", "hybrid", "hybrid_graph"}
    for recalls in methods.values():
        assert set(recalls) == {"recall@1", "recall@5", "recall@10", "recall@20"}
    latency = sample_result["latency_ms"]
    assert isinstance(latency, dict) and latency["p50"] > 0 and latency["p95"] >= latency["p50"]


def test_hybrid_beats_or_matches_both_baselines(sample_result: dict[str, object]) -> None:
    methods = sample_result["methods"]
    assert isinstance(methods, dict)
    for k in (5, 10):
        key = f"recall@{k}"
        assert methods["hybrid"][key] >= max(methods["bm25"][key], methods["dense"][key])
    assert methods["hybrid"]["recall@10"] >= 0.9


def test_missing_data_file_is_a_clear_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "retrieval", "--data", str(tmp_path / "absent.json"),
                "--out", str(tmp_path / "x.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


LOCOMO = Path(__file__).resolve().parents[3] / "shared" / "data" / "locomo" / "locomo_dev.json"


@pytest.mark.slow
@pytest.mark.skipif(not LOCOMO.exists(), reason="../shared/data/locomo is absent (fresh clone)")
def test_hybrid_reaches_the_locomo_target_on_one_conversation(tmp_path: Path) -> None:
    conversations = json.loads(LOCOMO.read_text())[:1]
    data = tmp_path / "one.json"
    data.write_text(json.dumps(conversations))
    result = bench_retrieval.run(data, tmp_path / "store")
    assert result.recall["hybrid"][10] >= 0.65
    for k in (1, 5, 10, 20):
        assert result.recall["hybrid"][k] > max(result.recall["bm25"][k], result.recall["dense"][k])
