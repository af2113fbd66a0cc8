"""The server's memory-work threads (issue 27, holes 3 and 4): ids no client can derive, owned
by the server, and the key they come from, kept in the data home. The served routes are in
tests/integration/test_served_threads.py."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from agent_runtime.internal_threads import (
    KEY_FILE,
    KEY_VARIABLE,
    MEMORY_WORK,
    internal_key,
    memory_thread,
    server_owner,
    thread_owner,
)
from memory_graph.errors import ConfigurationError


def test_memory_thread_ids_come_from_the_key() -> None:
    ids = {memory_thread(key, user, kind) for key in ("k1", "k2") for user in ("alice", "bob")
           for kind in MEMORY_WORK}
    assert len(ids) == 8
    assert memory_thread("k1", "alice", "extract") == memory_thread("k1", "alice", "extract")
    # The ids of main, which anyone could compute, are not among them.
    assert not ids & {str(uuid.uuid5(uuid.NAMESPACE_URL, f"personavlm:{user}:{kind}"))
                      for user in ("alice", "bob") for kind in MEMORY_WORK}
    # No id is derived from an empty key (it could be guessed).
    with pytest.raises(ConfigurationError, match="empty"):
        memory_thread("", "alice", "extract")


def test_only_the_callers_own_memory_threads_are_the_servers() -> None:
    alices = memory_thread("k1", "alice", "extract")
    assert thread_owner("k1", "alice", alices) == server_owner("k1")
    assert thread_owner("k1", "alice", uuid.UUID(alices)) == server_owner("k1")
    # Bob, even knowing the id, asks as bob: the thread is not found under his name.
    assert thread_owner("k1", "bob", alices) == "bob"
    assert thread_owner("k1", "alice", str(uuid.uuid4())) == "alice"
    assert thread_owner("k1", "alice", None) == "alice"  # a search names no thread
    assert server_owner("k1") != server_owner("k2")


def test_the_key_is_made_once_in_the_data_home(tmp_path: Path) -> None:
    env = {"PERSONAVLM_DATA": str(tmp_path / "data")}
    key = internal_key(env)
    path = tmp_path / "data" / KEY_FILE
    assert path.read_text() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert internal_key(env) == key  # a restart, or a second reader, gets the same
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]
    assert internal_key({**env, KEY_VARIABLE: " given "}) == "given"
    path.write_text("\n")
    with pytest.raises(ConfigurationError, match=KEY_VARIABLE):
        internal_key(env)
