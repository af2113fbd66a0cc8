"""Smoke runs of every benchmark command with the real offline model on a few items:
outputs written, scores in range, a second run resumes instead of asking again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import shared_data_dir

from evals.persona_mme_fixture import write_fixture
from personavlm.cli import main

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).resolve().parents[2] / "personavlm" / "samples" / "locomo_sample.json"
YOLLAVA = shared_data_dir() / "yollava_bo"
needs_data = pytest.mark.skipif(not YOLLAVA.is_dir(),
                                reason=f"{YOLLAVA} is absent (fresh clone without ../shared)")


def _items(path: Path) -> list[str]:
    return path.with_suffix(".items.jsonl").read_text("utf-8").splitlines()


def test_locomo_smoke_run_scores_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "locomo.json"
    argv = ["eval", "locomo", "--data", str(SAMPLE), "--limit", "2", "--systems",
            "no-memory", "rag-turns", "ours", "--out", str(out)]
    assert main([*argv, "--first-round-recall", "--judge-provider", "llamacpp"]) == 0
    result = json.loads(out.read_text())
    assert result["first_round_recall_all_questions"]["rag-turns"]["n"] > 0
    assert "sha256" in result["config"]["judge"]
    assert all(item["judge"] in (0.0, 1.0) for item in result["items"])
    assert "| judge" in out.with_suffix(".md").read_text()
    assert set(result["systems"]) == {"no-memory", "rag-turns", "ours"}
    assert len(result["items"]) == 6
    for item in result["items"]:
        assert 0.0 <= item["f1"] <= 1.0 and item["model_calls"] >= 1
        assert item["prompt_tokens"] > 0
    assert result["systems"]["no-memory"]["recall@5"] == 0.0
    assert result["systems"]["rag-turns"]["credited_turns"] == 5.0
    assert result["config"]["model"]["sha256"]
    assert out.with_suffix(".png").stat().st_size > 0
    assert "| rag-turns" in out.with_suffix(".md").read_text()
    logged = _items(out)
    assert main(argv) == 0
    assert _items(out) == logged
    assert json.loads(out.read_text())["first_round_recall_all_questions"] is None


@needs_data
def test_persona_mme_smoke_run_on_the_fixture(tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    questions = json.loads(write_fixture(root, YOLLAVA).read_text())
    history = root / "samples" / "maya" / "user_data.json"
    data = json.loads(history.read_text())
    data["sessions"], data["imgs"] = data["sessions"][:1], data["imgs"][:1]
    history.write_text(json.dumps(data))
    picked = [q for q in questions if q["question_type"] == "Visual Detail Recall"]
    (root / "few.json").write_text(json.dumps(picked))
    out = tmp_path / "pmme.json"
    assert main(["eval", "persona-mme", "--questions", str(root / "few.json"), "--root",
                 str(root), "--extraction", "session", "--systems", "no-memory",
                 "ours", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["replay"]["pmme-samples-maya"]["turns"] == 3
    ours = result["systems"]["ours"]
    assert ours["n"] == 3 and 0.0 <= ours["accuracy"] <= 1.0
    assert set(ours["by_aspect"]) == {"Memory Recall", "Personality Alignment"}
    assert ours["accuracy_without_alignment"] in (0.0, 1.0)


@needs_data
def test_visual_benchmark_refuses_a_model_without_vision(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "visual.json"
    assert main(["eval", "visual", "--data", str(YOLLAVA), "--out", str(out)]) == 3
    assert "has no vision" in capsys.readouterr().err
    assert not out.exists()


def test_llama_bench_measures_one_and_two_processes(tmp_path: Path) -> None:
    out = tmp_path / "llama.json"
    assert main(["bench", "llama", "--policies", "spin-1k", "--processes", "1", "2",
                 "--prompt-tokens", "16", "--gen-tokens", "4", "--repeats", "1",
                 "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["policy"], r["processes"]) for r in rows] == [("spin-1k", 1), ("spin-1k", 2)]
    assert len(rows[1]["runs"][0]) == 2  # both processes reported
    assert all(r["prompt_tok_s"] > 0 and r["gen_tok_s"] > 0 for r in rows)
    assert rows[0]["build"].startswith("tier ")  # read from the venv's build record
    assert out.with_suffix(".png").stat().st_size > 0
