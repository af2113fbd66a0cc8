"""Durability of the embedded store: kill -9 mid-write, torn log tails, a full disk,
forgetting on disk."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from evals.bench_faults import _full_disk, tmpfs_available
from memory_graph.backends.journal import LOG
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import StoreLockedError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 1, 1, tzinfo=UTC)

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from datetime import datetime, timedelta, UTC
    from helpers import HashingEmbedder
    from memory_graph.backends.networkx_store import NetworkxStore
    from memory_graph.graph import MemoryGraph, TurnInput
    store = NetworkxStore(sys.argv[1], compact_bytes=50_000)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("killed")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(100000):
        turn = TurnInput(text=f"note number {{i}} " + "x" * 2000, at=t0 + timedelta(minutes=i),
                         session_id=f"s{{i // 20}}", turn_id=f"t{{i}}", seq=i % 20)
        memory.add_turns("killed", [turn])
        print(i, flush=True)
""")


@pytest.mark.slow
def test_sigkill_mid_write_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "store"
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(tests=str(ROOT / "tests")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_number in range(3):
        process = subprocess.Popen([sys.executable, str(script), str(data)],
                                   stdout=subprocess.PIPE, text=True, env=env)
        assert process.stdout is not None
        acknowledged = -1
        deadline = time.monotonic() + 60
        while acknowledged < 30 + round_number * 7 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            acknowledged = int(line)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert acknowledged >= 30, "the writer did not get going"
        store = NetworkxStore(data)
        ids = {n.id for n in store.find_nodes("killed", NodeLabel.TURN)}
        missing = [f"t{i}" for i in range(acknowledged + 1) if f"t{i}" not in ids]
        assert not missing, f"acknowledged writes lost after SIGKILL: {missing[:5]}"
        assert store.keyword_search("killed", NodeLabel.TURN, "note", 5)
        store.close()


def test_torn_log_tail_is_cut_and_earlier_writes_survive(tmp_path: Path) -> None:
    store = NetworkxStore(tmp_path)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("u1")
    memory.add_turns("u1", [TurnInput(text="kept", at=T0, session_id="s", turn_id="a")])
    store.close()
    log = next(tmp_path.rglob(LOG))
    with log.open("ab") as handle:
        handle.write(b'deadbeef {"seq": 99, "op": {"kind": "nod')
    reopened = NetworkxStore(tmp_path)
    assert [n.id for n in reopened.get_nodes("u1", ["a"])] == ["a"]
    MemoryGraph(reopened, HashingEmbedder()).add_turns(
        "u1", [TurnInput(text="after repair", at=T0, session_id="s", turn_id="b")])
    reopened.close()
    again = NetworkxStore(tmp_path)
    assert {n.id for n in again.get_nodes("u1", ["a", "b"])} == {"a", "b"}
    again.close()


def test_a_full_disk_loses_no_acknowledged_write_and_damages_nothing(tmp_path: Path) -> None:
    """A writer on a full 256 KiB tmpfs whose pages now and then come free: writes fail with
    ENOSPC in the middle of their line, later ones succeed. Before, the next successful
    write landed on the partial line, and after reopening the user was unavailable."""
    if not tmpfs_available():
        pytest.skip("unshare cannot mount a tmpfs here")
    rng = random.Random(1)
    for round_number in range(2):
        result = _full_disk(tmp_path / f"r{round_number}", rng, turns=40)
        assert result.failed > 0 and result.acknowledged > 0, "the disk never filled"
        assert not result.damaged and result.present == result.acknowledged
        assert result.other_user_intact


def test_forgotten_text_is_nowhere_in_the_files(tmp_path: Path) -> None:
    store = NetworkxStore(tmp_path)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("u1")
    secret = "my bank pin is 4931 zanzibar"
    memory.add_turns("u1", [
        TurnInput(text="harmless small talk", at=T0, session_id="s1", turn_id="a"),
        TurnInput(text=secret, at=T0, session_id="s1", turn_id="b", seq=1),
    ])
    assert any(b"zanzibar" in f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
    memory.forget_turn("u1", "b")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"zanzibar" not in path.read_bytes(), f"forgotten text left in {path}"
    store.close()
    reopened = NetworkxStore(tmp_path)
    assert reopened.get_nodes("u1", ["b"]) == []
    assert [n.id for n in reopened.get_nodes("u1", ["a"])] == ["a"]
    reopened.close()


def test_forgetting_a_user_removes_the_directory(tmp_path: Path) -> None:
    store = NetworkxStore(tmp_path)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("u1")
    memory.add_turns("u1", [TurnInput(text="zanzibar trip", at=T0, session_id="s1")])
    memory.forget_user("u1")
    assert not any(b"zanzibar" in f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
    store.close()
    assert NetworkxStore(tmp_path).users() == []


def test_a_second_process_cannot_open_the_same_directory(tmp_path: Path) -> None:
    store = NetworkxStore(tmp_path)
    code = ("import sys; from memory_graph.backends.networkx_store import NetworkxStore\n"
            "from memory_graph.errors import StoreLockedError\n"
            "try:\n    NetworkxStore(sys.argv[1])\nexcept StoreLockedError:\n    sys.exit(3)\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert result.returncode == 3
    store.close()
    with pytest.raises(StoreLockedError):
        held = NetworkxStore(tmp_path)
        NetworkxStore(tmp_path)
    held.close()
