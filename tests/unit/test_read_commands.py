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


def test_read_commands_work_while_another_process_holds_the_store(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A chat or the server holds the directory's lock: the read commands open it
    read-only and see every acknowledged write, the newest too; nothing is written."""
    from helpers import HashingEmbedder

    from memory_graph.backends.networkx_store import NetworkxStore
    from memory_graph.errors import StoreReadOnlyError
    from memory_graph.graph import MemoryGraph, TurnInput

    holder = NetworkxStore(db, compact_bytes=2_000)  # compacts after a few writes
    writer = MemoryGraph(holder, HashingEmbedder())
    for i in range(12):
        writer.add_turns("maya", [TurnInput(text=f"A note number {i}.",
                                            at=f"2030-05-0{1 + i // 5} 1{i % 5}:00",
                                            session_id="s9")])
        before = {p: p.stat().st_mtime_ns for p in db.rglob("*") if p.is_file()}
        assert main(["memories", "--user", "maya", "--location", str(db), "--json",
                     "--ids"]) == 0
        turns = json.loads(capsys.readouterr().out)["turns"]
        assert turns[-1]["text"] == f"A note number {i}."
        assert {p: p.stat().st_mtime_ns for p in db.rglob("*") if p.is_file()} == before
    assert main(["users", "--location", str(db)]) == 0
    assert capsys.readouterr().out.split() == ["maya"]
    reader = NetworkxStore(db, read_only=True)
    with pytest.raises(StoreReadOnlyError):
        MemoryGraph(reader, HashingEmbedder()).add_turns(
            "maya", [TurnInput(text="refused", at="2024-06-01 10:00", session_id="s9")])
    holder.close()


def test_status_speaks_words_and_memories_json_has_validity_and_provenance(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--user", "maya", "--location", str(db)]) == 0
    said = capsys.readouterr().out
    assert "turns: 2 none" in said and "{" not in said
    assert main(["memories", "--user", "maya", "--location", str(db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["memories"]
    assert rows and all({"valid_from", "valid_to", "source_turns"} <= set(r) for r in rows)


def test_graph_png_without_chromium_says_how_to_get_one(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PERSONAVLM_CHROMIUM", str(tmp_path / "no-such-chrome"))
    page = tmp_path / "page.html"
    assert main(["graph", "--user", "maya", "--location", str(db), "--html", str(page),
                 "--png", str(tmp_path / "page.png")]) == 2
    said = capsys.readouterr().err
    assert page.exists() and "apt install chromium" in said and "PERSONAVLM_CHROMIUM" in said
