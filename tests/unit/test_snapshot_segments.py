"""The embedded store's snapshot in segments: a forget rewrites the few segments that held
what it removed, every other segment file stays as it was, and the forgotten text is in
no file; a compaction's leftovers are removed when the user is opened; a damaged or
deleted segment makes its user unavailable, naming the file, and ``repair`` sets it aside
or reports it; a single-file snapshot of an earlier release opens and becomes segments at
its next compaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from memory_graph.backends.journal import (
    QUARANTINE,
    SNAPSHOT,
    GraphState,
    open_snapshot,
    segment_files,
    write_snapshot,
)
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import MissingWritesError, StoreCorruptedError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel, stable_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TURNS = 60


def open_store(root: Path) -> NetworkxStore:
    """Segments of 8 nodes, a compaction every few writes."""
    return NetworkxStore(root, compact_bytes=4_000, segment_nodes=8)


def write_turns(root: Path, user: str, count: int = TURNS) -> None:
    store = open_store(root)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user(user)
    for i in range(count):
        memory.add_turns(user, [TurnInput(text=f"{user} note number {i:03d}",
                                          at=T0 + timedelta(minutes=i), session_id="s",
                                          turn_id=f"{user}-t{i}", seq=i)])
    store.close()


def user_dir(root: Path, user: str) -> Path:
    return root / "users" / stable_id("user", user)


def files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in segment_files(directory)}


def turn_ids(store: NetworkxStore, user: str) -> set[str]:
    return {n.id for n in store.find_nodes(user, NodeLabel.TURN)}


def test_a_forget_rewrites_only_the_segments_that_held_it(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana")
    directory = user_dir(tmp_path, "ana")
    before = files(directory)
    assert len(before) >= 6
    store = open_store(tmp_path)
    MemoryGraph(store, HashingEmbedder()).forget_turn("ana", "ana-t20")
    after = files(directory)
    unchanged = {name for name, data in after.items() if before.get(name) == data}
    assert len(unchanged) >= len(before) - 2, "a forget rewrote segments it did not touch"
    everything = b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())
    assert b"note number 020" not in everything
    assert b"note number 019" in everything and b"note number 021" in everything
    store.close()
    again = open_store(tmp_path)
    assert turn_ids(again, "ana") == {f"ana-t{i}" for i in range(TURNS)} - {"ana-t20"}
    again.close()


def test_a_compaction_that_did_not_finish_leaves_nothing_at_the_next_open(
        tmp_path: Path) -> None:
    write_turns(tmp_path, "ana")
    directory = user_dir(tmp_path, "ana")
    leftover = directory / "segment-00042.999.json"
    leftover.write_bytes(b"a segment written by a compaction killed before its list")
    (directory / "segment-00043.999.json.tmp").write_bytes(b"half a segment")
    store = open_store(tmp_path)
    assert len(turn_ids(store, "ana")) == TURNS
    assert not leftover.exists() and not list(directory.glob("*.tmp"))
    store.close()


def listed(directory: Path) -> list[Path]:
    snapshot = open_snapshot(directory / SNAPSHOT)
    assert snapshot is not None and snapshot.segments
    return [directory / name for _, name in snapshot.segments]


def test_a_damaged_segment_is_named_and_set_aside_by_repair(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana")
    write_turns(tmp_path, "ben", 3)
    segment = listed(user_dir(tmp_path, "ana"))[1]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 1
    segment.write_bytes(bytes(data))
    store = open_store(tmp_path)
    assert len(turn_ids(store, "ben")) == 3
    with pytest.raises(StoreCorruptedError) as refused:
        store.find_nodes("ana", NodeLabel.TURN)
    assert refused.value.path == str(segment)
    [report] = store.repair()
    assert report.quarantined_snapshot and not report.unrecovered
    assert any(user_dir(tmp_path, "ana").joinpath(QUARANTINE).glob(f"{segment.name}.*"))
    kept = turn_ids(store, "ana")
    assert 0 < len(kept) < TURNS and "ana-t59" in kept
    store.close()


def test_a_segment_that_lists_segments_is_refused_and_set_aside_by_repair(
        tmp_path: Path) -> None:
    """A segment file holding a segment list (intact, so its checksum passes) is damage to
    the open and to the repair alike: set aside, the user opens again."""
    write_turns(tmp_path, "ana")
    directory = user_dir(tmp_path, "ana")
    segment = listed(directory)[1]
    segment.write_bytes((directory / "snapshot.json").read_bytes())
    store = open_store(tmp_path)
    with pytest.raises(StoreCorruptedError, match="lists segments"):
        store.find_nodes("ana", NodeLabel.TURN)
    [report] = store.repair()
    assert report.quarantined_snapshot and not report.unrecovered
    kept = turn_ids(store, "ana")
    assert 0 < len(kept) < TURNS and "ana-t59" in kept
    store.close()


def test_a_deleted_segment_is_missing_writes_and_reported_by_repair(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana")
    segment = listed(user_dir(tmp_path, "ana"))[0]
    segment.unlink()
    store = open_store(tmp_path)
    with pytest.raises(MissingWritesError) as refused:
        store.find_nodes("ana", NodeLabel.TURN)
    assert refused.value.path == str(segment) and "is gone" in str(refused.value)
    [report] = store.repair()
    assert [missing.path for missing in report.unrecovered] == [str(segment)]
    assert "ana-t59" in turn_ids(store, "ana")
    store.close()


def test_a_single_file_snapshot_becomes_segments_at_its_next_compaction(
        tmp_path: Path) -> None:
    write_turns(tmp_path, "ana")
    directory = user_dir(tmp_path, "ana")
    snapshot = open_snapshot(directory / SNAPSHOT)
    assert snapshot is not None
    records = list(snapshot.records())
    for path in segment_files(directory):
        path.unlink()
    write_snapshot(directory / SNAPSHOT, GraphState(
        "ana", [r for kind, r, _ in records if kind == "nodes"],
        [r for kind, r, _ in records if kind == "edges"]), snapshot.seq)
    store = open_store(tmp_path)
    assert len(turn_ids(store, "ana")) == TURNS
    assert not segment_files(directory)
    MemoryGraph(store, HashingEmbedder()).forget_turn("ana", "ana-t3")
    assert len(listed(directory)) >= 6
    store.close()
    again = open_store(tmp_path)
    assert len(turn_ids(again, "ana")) == TURNS - 1
    again.close()
