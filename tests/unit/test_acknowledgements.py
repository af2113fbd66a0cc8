"""The acknowledgement file (``wal.ack``) of the embedded store's journal: a crash between
its two writes or in the middle of one loses nothing acknowledged; a lost or damaged one
is damage, not a store from before it existed; a store from before it existed opens as it
is, once, and gets one; a failed append leaves nothing in the log, even when taking it back
fails too."""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from test_lost_writes import lines_of
from test_store_damage import T0, turn_ids, user_dir, write_turns

from memory_graph.backends import journal as journal_module
from memory_graph.backends import store_files
from memory_graph.backends.acks import ACKS, SLOT, read_acks
from memory_graph.backends.journal import LOG, QUARANTINE
from memory_graph.backends.networkx_store import META, NetworkxStore
from memory_graph.errors import MissingWritesError, StoreCorruptedError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel
from personavlm.cli import main


def turn(i: int) -> TurnInput:
    return TurnInput(text=f"ana note {i}", at=T0, session_id="s", turn_id=f"ana-t{i}", seq=i)


def test_a_crash_between_the_log_and_the_acknowledgement_keeps_the_complete_record(
        tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 9)
    acks = user_dir(tmp_path, "ana") / ACKS
    before = acks.read_bytes()
    write_turns(tmp_path, "ana", 1, start=9)
    acks.write_bytes(before)  # the tenth write's line is on disk, its acknowledgement not
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(10)}
    store.close()
    assert read_acks(acks) is not None and read_acks(acks)[1].seq == 11  # type: ignore[index]


def test_a_torn_acknowledgement_leaves_the_one_before(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 10)
    acks = user_dir(tmp_path, "ana") / ACKS
    generation, _ = read_acks(acks) or (0, None)
    data = bytearray(acks.read_bytes())
    latest = SLOT * (generation % 2)
    data[latest + 20:latest + SLOT] = b"\0" * (SLOT - 20)  # a write torn by a crash
    acks.write_bytes(bytes(data))
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(10)}
    store.close()


@pytest.mark.parametrize("how", ["gone", "damaged"])
def test_a_lost_or_damaged_acknowledgement_file_is_damage_and_repair_says_so(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    write_turns(tmp_path, "ana", 10)
    write_turns(tmp_path, "ben", 2)
    acks = user_dir(tmp_path, "ana") / ACKS
    if how == "gone":
        acks.unlink()
    else:
        acks.write_bytes(b"x" * 2 * SLOT)
    store = NetworkxStore(tmp_path)
    with pytest.raises(StoreCorruptedError) as caught:
        store.find_nodes("ana", NodeLabel.TURN)
    assert caught.value.path == str(acks)
    assert len(turn_ids(store, "ben")) == 2
    store.close()
    assert main(["repair", "--location", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"warning: users/{acks.parent.name}: {acks}" in err
    assert "whether acknowledged writes are missing cannot be told" in err
    assert (acks.parent / QUARANTINE).exists() == (how == "damaged")
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(10)}
    store.close()


def test_a_store_from_before_the_acknowledgement_file_opens_once_and_gets_one(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_turns(tmp_path, "ana", 10)
    directory = user_dir(tmp_path, "ana")
    (directory / ACKS).unlink()
    (directory / META).write_text(json.dumps({"user_id": "ana"}))  # as written before
    store = NetworkxStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="personavlm.store"):
        assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(10)}  # opened now
    assert "trusted as it is this once" in caplog.text
    store.close()
    assert json.loads((directory / META).read_text())["acks"] is True
    log = directory / LOG
    log.write_bytes(b"".join(lines_of(log)[:5]))
    store = NetworkxStore(tmp_path)
    with pytest.raises(MissingWritesError):  # from now on a cut is seen
        store.find_nodes("ana", NodeLabel.TURN)
    store.close()


@pytest.mark.parametrize("how", ["cut", "deleted"])
def test_a_journal_lost_while_the_store_has_it_open_refuses_the_next_write(
        tmp_path: Path, how: str) -> None:
    store = NetworkxStore(tmp_path)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("ana")
    memory.add_turns("ana", [turn(0), turn(1)])
    log = user_dir(tmp_path, "ana") / LOG
    if how == "cut":
        log.write_bytes(b"".join(lines_of(log)[:1]))
    else:
        log.unlink()
    with pytest.raises(MissingWritesError, match=f"it was {how}"):
        memory.add_turns("ana", [turn(2)])
    assert log.exists() == (how == "cut")
    store.close()


def full_disk_after(budget: int) -> Callable[[int, bytes | memoryview], int]:
    """An ``os.write`` that writes ``budget`` bytes in all, then fails as a full disk."""
    real = os.write
    left = [budget]

    def write(fd: int, data: bytes | memoryview) -> int:
        if left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = real(fd, bytes(data)[:left[0]])
        left[0] -= written
        return written
    return write


@pytest.mark.parametrize("take_back", ["works", "fails too"])
def test_a_failed_append_leaves_no_partial_line(tmp_path: Path, take_back: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = NetworkxStore(tmp_path)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("ana")
    memory.add_turns("ana", [turn(0)])
    log = user_dir(tmp_path, "ana") / LOG
    acknowledged = log.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(store_files.os, "write", full_disk_after(40))
        if take_back == "fails too":
            def refuse(fd: int, length: int) -> None:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            patch.setattr(journal_module.os, "ftruncate", refuse)
        with pytest.raises(OSError):
            memory.add_turns("ana", [turn(1)])
    assert (log.read_bytes() == acknowledged) == (take_back == "works")
    memory.add_turns("ana", [turn(2)])  # lands after the acknowledged lines, not on the part
    after = log.read_bytes()
    assert after.startswith(acknowledged) and after[len(acknowledged):].count(b"\n") == 1
    store.close()
    reopened = NetworkxStore(tmp_path)
    assert turn_ids(reopened, "ana") == {"ana-t0", "ana-t2"}
    reopened.close()
