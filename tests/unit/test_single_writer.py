"""``MemoryGraph`` is the only writer to a store: no module outside memory_graph/ calls a
store's write methods (it calls ``MemoryGraph.commit`` and friends instead), and the agent,
the CLI and the evaluations read through ``MemoryGraph`` too (never ``memory.store``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Write methods of ``GraphStore`` that no other object has (but for the media store,
#: whose files are not the graph).
STORE_ONLY_WRITES = {"claim_node", "drop_user"}
#: Names ``MemoryGraph`` shares with the store: writes only when called on a store.
SHARED_WRITES = {"commit", "ensure_user"}


def _store_writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name, receiver = node.func.attr, node.func.value
        on_store = (isinstance(receiver, ast.Attribute) and receiver.attr == "store") or \
            (isinstance(receiver, ast.Name) and receiver.id == "store")
        on_media = isinstance(receiver, ast.Attribute) and receiver.attr == "media"
        if (name in STORE_ONLY_WRITES and not on_media) or (name in SHARED_WRITES and on_store):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    return found


def _memory_store_uses(path: Path) -> list[str]:
    """``memory.store`` / ``x.memory.store``: reaching past ``MemoryGraph`` to its store."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            inner = node.value
            if (isinstance(inner, ast.Name) and inner.id == "memory") or \
                    (isinstance(inner, ast.Attribute) and inner.attr == "memory"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def _outside_memory_graph() -> list[Path]:
    files = [p for package in ("providers", "agent_runtime", "memory_work", "nodes", "graphs",
                               "evals", "personavlm")
             for p in (ROOT / package).rglob("*.py")]
    assert len(files) > 40
    return files


def test_no_store_write_outside_memory_graph() -> None:
    assert [w for p in _outside_memory_graph() for w in _store_writes(p)] == []


def test_no_read_past_memory_graph() -> None:
    assert [u for p in _outside_memory_graph() for u in _memory_store_uses(p)] == []


def test_the_check_sees_a_store_write(tmp_path: Path) -> None:
    sample = ROOT / "tests" / "_sample_writer.py"
    sample.write_text("def f(res, store):\n    res.memory.store.claim_node('u', None, '')\n"
                      "    store.commit('u', None)\n    res.memory.commit('u', None)\n")
    try:
        assert [w.split()[1] for w in _store_writes(sample)] == [
            "res.memory.store.claim_node", "store.commit"]
        assert [u.split()[1] for u in _memory_store_uses(sample)] == ["res.memory.store"]
    finally:
        sample.unlink()
