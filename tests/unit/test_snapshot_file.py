"""A snapshot written record by record reads back record by record, with its checksum;
one written before records had lines of their own still reads; one whose writing fails
leaves the previous snapshot as it was and no temporary file."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory_graph.backends.journal import (
    SNAPSHOT_MAGIC,
    GraphState,
    Snapshot,
    open_snapshot,
    write_snapshot,
)
from memory_graph.errors import StoreCorruptedError

NODES = [{"label": "Turn", "data": {"id": f"t{i}", "text": f"note {i} \u00e9\u4e2d"}, "emb": None}
         for i in range(5)]
EDGES = [{"id": "e1", "source": "t0", "target": "t1"}]


def _read(snapshot: Snapshot | None) -> dict[str, Any]:
    assert snapshot is not None
    state: dict[str, Any] = {"seq": snapshot.seq, "nodes": [], "edges": []}
    for kind, record, segment in snapshot.records():
        assert segment is None
        state[kind].append(record)
    return state


def test_a_snapshot_reads_back_record_by_record(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    size = write_snapshot(path, GraphState("ana", iter(NODES), iter(EDGES)), seq=7)
    assert size == path.stat().st_size
    assert _read(open_snapshot(path)) == {"seq": 7, "nodes": NODES, "edges": EDGES}
    body = path.read_bytes().partition(b"\n")[2]
    assert json.loads(body) == {"user_id": "ana", "seq": 7, "nodes": NODES, "edges": EDGES}
    empty = tmp_path / "empty.json"
    write_snapshot(empty, GraphState("ana", (), ()), seq=0)
    assert _read(open_snapshot(empty)) == {"seq": 0, "nodes": [], "edges": []}
    assert open_snapshot(tmp_path / "none.json") is None


@pytest.mark.parametrize("magic", [True, False])
def test_a_snapshot_of_an_earlier_release_reads_whole(tmp_path: Path, magic: bool) -> None:
    path = tmp_path / "snapshot.json"
    body = json.dumps({"user_id": "ana", "seq": 3, "nodes": NODES, "edges": EDGES}).encode()
    head = SNAPSHOT_MAGIC + f"{zlib.crc32(body):08x}\n".encode() if magic else b""
    path.write_bytes(head + body)
    assert _read(open_snapshot(path)) == {"seq": 3, "nodes": NODES, "edges": EDGES}


def test_a_flipped_byte_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    write_snapshot(path, GraphState("ana", NODES, EDGES), seq=7)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptedError, match="checksum"):
        open_snapshot(path)


def test_a_failed_write_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    write_snapshot(path, GraphState("ana", NODES, EDGES), seq=7)
    before = path.read_bytes()

    def failing() -> Iterator[dict[str, Any]]:
        yield NODES[0]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_snapshot(path, GraphState("ana", failing(), EDGES), seq=8)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.json"]
