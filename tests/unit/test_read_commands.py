"""The read-only commands (``memories``, ``status``, ``graph``) answer from the store
without the agent: they print the memories, the memory-work state and the page, and load
neither LangGraph, LangChain nor a model (so they start in about a second; the figures
are in docs/results.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from graph_pages import write_small_memory_page

from personavlm.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    write_small_memory_page(tmp_path)
    return tmp_path / "db"


def test_memories_status_and_graph_read_the_store(db: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["memories", "--user", "maya", "--location", str(db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any("Pixel is an orange cat" in row["text"] for row in listed["memories"])
    assert [t["id"] for t in listed["turns"]] == ["t1", "t2"]
    assert main(["status", "--user", "maya", "--location", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["turns"] == {"none": 2}
    page = tmp_path / "page.html"
    assert main(["graph", "--user", "maya", "--location", str(db), "--html", str(page)]) == 0
    assert "Pixel is an orange cat" in page.read_text(encoding="utf-8")
    assert main(["memories", "--user", "nobody", "--location", str(db)]) == 2
    assert "unknown user 'nobody'" in capsys.readouterr().err


def test_read_only_commands_load_no_agent_and_no_model(db: Path) -> None:
    code = ("import sys; from personavlm.cli import main; "
            f"main(['memories', '--user', 'maya', '--location', {str(db)!r}]); "
            "main(['status', '--user', 'maya', '--location', " f"{str(db)!r}]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'langgraph', "
            "'langchain_core', 'llama_cpp', 'sentence_transformers', 'torch'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
