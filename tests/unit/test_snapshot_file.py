"""A snapshot written record by record reads back whole, with its checksum; one whose
writing fails leaves the previous snapshot as it was and no temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory_graph.backends.journal import GraphState, read_snapshot, write_snapshot
from memory_graph.errors import StoreCorruptedError

NODES = [{"label": "Turn", "data": {"id": f"t{i}", "text": f"note {i} \u00e9\u4e2d"}, "emb": None}
         for i in range(5)]
EDGES = [{"id": "e1", "source": "t0", "target": "t1"}]


def test_a_snapshot_reads_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    size = write_snapshot(path, GraphState("ana", iter(NODES), iter(EDGES)), seq=7)
    assert size == path.stat().st_size
    assert read_snapshot(path) == {"user_id": "ana", "seq": 7, "nodes": NODES, "edges": EDGES}
    empty = tmp_path / "empty.json"
    write_snapshot(empty, GraphState("ana", (), ()), seq=0)
    assert read_snapshot(empty) == {"user_id": "ana", "seq": 0, "nodes": [], "edges": []}


def test_a_flipped_byte_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    write_snapshot(path, GraphState("ana", NODES, EDGES), seq=7)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptedError, match="checksum"):
        read_snapshot(path)


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
