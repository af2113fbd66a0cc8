"""Loud, contained corruption of the embedded store: a damaged record in the middle of the
journal, a damaged snapshot or user file makes only that user unavailable with a typed
error naming the file and offset, and leaves the file as it was; ``repair`` quarantines
the damage and keeps every intact record; only a torn final record is trimmed (logged);
sequence numbers continue from the files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from memory_graph.backends.journal import LOG, QUARANTINE, SNAPSHOT
from memory_graph.backends.networkx_store import META, NetworkxStore
from memory_graph.errors import StoreCorruptedError, UnknownUserError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel, stable_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def write_turns(root: Path, user: str, count: int, start: int = 0,
                compact_bytes: int = 32 * 1024 * 1024) -> None:
    store = NetworkxStore(root, compact_bytes=compact_bytes)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user(user)
    for i in range(start, start + count):
        memory.add_turns(user, [TurnInput(text=f"{user} note {i}", at=T0 + timedelta(minutes=i),
                                          session_id="s", turn_id=f"{user}-t{i}", seq=i)])
    store.close()


def turn_ids(store: NetworkxStore, user: str) -> set[str]:
    return {n.id for n in store.find_nodes(user, NodeLabel.TURN)}


def user_dir(root: Path, user: str) -> Path:
    return root / "users" / stable_id("user", user)


def flip_middle_byte(path: Path) -> int:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    while data[middle] in b"\n":
        middle += 1
    data[middle] ^= 0x20
    path.write_bytes(bytes(data))
    return middle


def test_a_flipped_byte_mid_journal_is_loud_contained_and_repairable(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 40)
    write_turns(tmp_path, "ben", 5)
    log = user_dir(tmp_path, "ana") / LOG
    offset = flip_middle_byte(log)
    damaged = log.read_bytes()
    store = NetworkxStore(tmp_path)
    with pytest.raises(StoreCorruptedError) as caught:
        store.find_nodes("ana", NodeLabel.TURN)
    assert caught.value.path == str(log)
    assert 0 < caught.value.offset <= offset
    assert log.read_bytes() == damaged, "the damaged file must be left as it was"
    assert len(turn_ids(store, "ben")) == 5
    with pytest.raises(StoreCorruptedError):
        MemoryGraph(store, HashingEmbedder()).ensure_user("ana")
    [report] = store.repair()
    assert report.quarantined_records == 1
    assert report.quarantine_file is not None and report.quarantine_file.exists()
    assert len(turn_ids(store, "ana")) >= 39  # the record with the flipped byte is set aside
    store.close()
    reopened = NetworkxStore(tmp_path)
    assert len(turn_ids(reopened, "ana")) == report.kept_records - 1  # minus the user record
    reopened.close()


def test_only_a_torn_final_record_is_trimmed_and_that_is_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_turns(tmp_path, "ana", 3)
    log = user_dir(tmp_path, "ana") / LOG
    with log.open("ab") as handle:
        handle.write(b'deadbeef {"seq": 99, "op": {"kind": "nod')
    store = NetworkxStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="personavlm.store"):
        assert len(turn_ids(store, "ana")) == 3  # opened now
    assert "torn final record" in caplog.text
    store.close()


def test_a_damaged_final_record_with_its_newline_is_not_trimmed(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 3)
    log = user_dir(tmp_path, "ana") / LOG
    data = bytearray(log.read_bytes())
    data[-5] ^= 0x01
    log.write_bytes(bytes(data))
    store = NetworkxStore(tmp_path)
    with pytest.raises(StoreCorruptedError):
        store.find_nodes("ana", NodeLabel.TURN)
    assert log.read_bytes() == bytes(data)
    store.close()


def test_a_damaged_snapshot_makes_only_its_user_unavailable(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 30, compact_bytes=2_000)
    write_turns(tmp_path, "ben", 3)
    snapshot = user_dir(tmp_path, "ana") / SNAPSHOT
    assert snapshot.exists()
    flip_middle_byte(snapshot)
    store = NetworkxStore(tmp_path)
    assert len(turn_ids(store, "ben")) == 3
    with pytest.raises(StoreCorruptedError, match="snapshot"):
        store.find_nodes("ana", NodeLabel.TURN)
    [report] = store.repair()
    assert report.quarantined_snapshot
    assert any((user_dir(tmp_path, "ana") / QUARANTINE).glob(f"{SNAPSHOT}.*"))
    store.find_nodes("ana", NodeLabel.TURN)  # available again, with what the log held
    store.close()


@pytest.mark.parametrize("damage", ["empty", "garbage"])
def test_a_damaged_user_file_makes_only_that_user_unavailable(tmp_path: Path,
                                                              damage: str) -> None:
    write_turns(tmp_path, "ana", 4)
    write_turns(tmp_path, "ben", 2)
    (user_dir(tmp_path, "ana") / META).write_text("" if damage == "empty" else "{not json")
    store = NetworkxStore(tmp_path)
    assert len(turn_ids(store, "ben")) == 2
    with pytest.raises(StoreCorruptedError, match="user file"):
        store.find_nodes("ana", NodeLabel.TURN)
    [report] = store.repair()
    assert report.quarantined_user_file
    assert len(turn_ids(store, "ana")) == 4  # recognised by its directory's name
    store.close()


def test_a_lost_user_file_loses_nothing_and_sequence_numbers_continue(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 30, compact_bytes=2_000)
    (user_dir(tmp_path, "ana") / META).unlink()
    write_turns(tmp_path, "ana", 2, start=30)  # ensure_user finds the old files
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(32)}
    store.close()


def test_a_damaged_user_can_still_be_erased(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 3)
    flip_middle_byte(user_dir(tmp_path, "ana") / LOG)
    store = NetworkxStore(tmp_path)
    store.drop_user("ana")
    assert not user_dir(tmp_path, "ana").exists()
    with pytest.raises(UnknownUserError):
        store.find_nodes("ana", NodeLabel.TURN)
    store.close()


def test_the_repair_command_reports_what_it_set_aside(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from personavlm.cli import main

    write_turns(tmp_path, "ana", 10)
    assert main(["repair", "--location", str(tmp_path)]) == 0
    assert "nothing is damaged" in capsys.readouterr().out
    flip_middle_byte(user_dir(tmp_path, "ana") / LOG)
    assert main(["repair", "--location", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "damaged: users/" in out and "set aside 1" in out
    store = NetworkxStore(tmp_path)
    assert len(turn_ids(store, "ana")) == 9
    store.close()
