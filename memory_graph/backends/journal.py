"""Crash-safe persistence for one user's embedded graph: snapshot + write-ahead log.

A write is acknowledged only after its log line is fsynced. Each line carries a CRC, so a
line torn by a kill mid-write is detected on reopen and cut off; every earlier line is
intact. Compaction writes the snapshot to a temporary file, fsyncs it, renames it over the
old one and then empties the log; operations are idempotent and numbered, so a crash
between the rename and the truncation replays nothing twice. Compaction after a deletion
rewrites both files, so forgotten text survives in neither.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

SNAPSHOT = "snapshot.json"
LOG = "wal.jsonl"


def encode_vector(vector: list[float] | None) -> str | None:
    if vector is None:
        return None
    return base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode("ascii")


def decode_vector(blob: str | None) -> list[float] | None:
    if blob is None:
        return None
    values: list[float] = np.frombuffer(base64.b64decode(blob), dtype=np.float32).tolist()
    return values


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _frame(seq: int, op: dict[str, Any]) -> bytes:
    body = json.dumps({"seq": seq, "op": op}, separators=(",", ":"), ensure_ascii=False)
    return f"{zlib.crc32(body.encode('utf-8')):08x} {body}\n".encode()


def _unframe(line: bytes) -> dict[str, Any] | None:
    if not line.endswith(b"\n") or len(line) < 10:
        return None
    crc, body = line[:8], line[9:-1]
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        record: dict[str, Any] = json.loads(body)
    except ValueError:
        return None
    return record


class Journal:
    """Snapshot and log files of one user's graph in ``directory``."""

    def __init__(self, directory: Path, compact_bytes: int = 32 * 1024 * 1024) -> None:
        self.directory = directory
        self.compact_bytes = compact_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self.seq = 0
        self._log_bytes = 0
        self._snapshot_bytes = 0

    def load(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The last snapshot and the log operations after it; a torn tail is cut off."""
        snapshot: dict[str, Any] | None = None
        snap_path = self.directory / SNAPSHOT
        if snap_path.exists():
            snapshot = json.loads(snap_path.read_text("utf-8"))
            self.seq = int(snapshot["seq"])
            self._snapshot_bytes = snap_path.stat().st_size
        return snapshot, list(self._replay())

    def _replay(self) -> Iterator[dict[str, Any]]:
        log_path = self.directory / LOG
        if not log_path.exists():
            return
        good = 0
        with log_path.open("rb") as handle:
            for line in handle:
                record = _unframe(line)
                if record is None:
                    break
                good += len(line)
                if record["seq"] > self.seq:
                    self.seq = int(record["seq"])
                    yield record["op"]
        if good != log_path.stat().st_size:
            with log_path.open("r+b") as handle:
                handle.truncate(good)
                os.fsync(handle.fileno())
        self._log_bytes = good

    def append(self, op: dict[str, Any]) -> None:
        """Durably append one operation; returns once it is on disk."""
        frame = _frame(self.seq + 1, op)
        with (self.directory / LOG).open("ab") as handle:
            handle.write(frame)
            handle.flush()
            os.fsync(handle.fileno())
        self.seq += 1
        self._log_bytes += len(frame)

    def wants_compaction(self) -> bool:
        return self._log_bytes > max(self.compact_bytes, self._snapshot_bytes)

    def compact(self, state: dict[str, Any]) -> None:
        """Replace snapshot and log by one snapshot of ``state`` (crash-safe)."""
        state = {**state, "seq": self.seq}
        tmp = self.directory / (SNAPSHOT + ".tmp")
        data = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / SNAPSHOT)
        _fsync_dir(self.directory)
        with (self.directory / LOG).open("wb") as handle:
            os.fsync(handle.fileno())
        self._log_bytes = 0
        self._snapshot_bytes = len(data)
