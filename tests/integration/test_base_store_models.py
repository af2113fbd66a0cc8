"""``MemoryGraphStore.from_location``: the embedded store with the bundled MiniLM embedder
and cross-encoder finds an item by meaning (no shared word), reopens with it after a
close, and ``~`` in the path is the home directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_memory.base_store import MemoryGraphStore

pytestmark = pytest.mark.slow


def test_from_location_searches_by_meaning_and_keeps_items(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = MemoryGraphStore.from_location("~/memory")
    store.put(("ana", "memories"), "nuts", {"content": "Ana is allergic to peanuts."})
    store.put(("ana", "memories"), "city", {"content": "Ana moved to Lisbon in May."})
    store.close()
    assert (tmp_path / "memory").is_dir() and not (Path.cwd() / "~").exists()
    reopened = MemoryGraphStore.from_location(tmp_path / "memory")
    try:
        found = reopened.search(("ana",), query="which foods make her ill?", limit=2)
        assert [item.key for item in found][:1] == ["nuts"]
        assert reopened.search(("bob",), query="which foods make her ill?") == []
    finally:
        reopened.close()
