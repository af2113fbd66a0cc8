"""FalkorDB specifics: a server that is down, forgetting reaching the server's dump file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from memory_graph.backends.falkordb_server import FalkorDBServer, free_port
from memory_graph.backends.falkordb_store import FalkorDBStore
from memory_graph.errors import StoreUnavailableError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_server_that_is_down_gives_a_clear_error() -> None:
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        FalkorDBStore(f"redis://127.0.0.1:{free_port()}")


def test_a_server_that_dies_mid_session_gives_a_clear_error(tmp_path: Path) -> None:
    server = FalkorDBServer(tmp_path).start()
    store = FalkorDBStore(server.url)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("t-down")
    server.stop()
    with pytest.raises(StoreUnavailableError):
        memory.add_turns("t-down", [TurnInput(text="lost?", at=T0, session_id="s1")])


def test_forgotten_text_is_not_in_the_saved_database(tmp_path: Path) -> None:
    with FalkorDBServer(tmp_path) as server:
        store = FalkorDBStore(server.url)
        memory = MemoryGraph(store, HashingEmbedder())
        memory.ensure_user("t-forget")
        memory.add_turns("t-forget", [
            TurnInput(text="harmless", at=T0, session_id="s1", turn_id="a"),
            TurnInput(text="zanzibar pin 4931", at=T0, session_id="s1", turn_id="b", seq=1),
        ])
        server.save()
        assert any(b"zanzibar" in f.read_bytes() for f in tmp_path.rglob("*.rdb"))
        memory.forget_turn("t-forget", "b")
        assert store.keyword_search("t-forget", NodeLabel.TURN, "zanzibar", 5) == []
        server.save()
        dumps = list(tmp_path.rglob("*.rdb"))
        assert dumps and not any(b"zanzibar" in f.read_bytes() for f in dumps)
        store.close()
