"""Crash-safe persistence for one user's embedded graph: snapshot + write-ahead log.

A write is acknowledged only after its log line is fsynced. Each line carries a CRC. Only
one kind of damage is repaired on open: a final line without its newline, which is what a
kill in the middle of an append leaves; it is cut off and logged. Any other damaged line,
and a snapshot that fails its CRC, raise ``StoreCorruptedError`` naming the file and the
byte offset, and the files are left as they are: ``repair`` sets damaged lines aside in a
quarantine file and keeps every intact one. A file that is there but cannot be read raises
``StoreUnreadableError`` (never passes for a missing one), and ``repair`` then changes
nothing. Sequence numbers come from the files, so a journal reopened after any loss
continues after the highest number it holds.

Compaction writes the snapshot to a temporary file, fsyncs it, renames it over the old one
and then empties the log; operations are idempotent and numbered, so a crash between the
rename and the truncation replays nothing twice. Compaction after a deletion rewrites both
files, so forgotten text survives in neither.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memory_graph.errors import StoreCorruptedError, StoreUnreadableError

SNAPSHOT = "snapshot.json"
LOG = "wal.jsonl"
QUARANTINE = "quarantine"
#: The first line of a snapshot: its body's CRC (snapshots without it are read as before).
SNAPSHOT_MAGIC = b"personavlm-snapshot crc32="

log = logging.getLogger("personavlm.store")


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


def _snapshot_bytes(state: dict[str, Any]) -> bytes:
    body = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return SNAPSHOT_MAGIC + f"{zlib.crc32(body):08x}\n".encode() + body


def read_store_file(path: Path) -> bytes | None:
    """The file's bytes, None when there is no file. One that is there but cannot be read
    (a directory in its place, no permission, an I/O error, a symlink loop) raises
    ``StoreUnreadableError``: taken for a missing file, it would hide what it holds."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnreadableError(str(path), exc) from exc


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """A snapshot file's state, None when there is none; ``StoreCorruptedError`` when it
    fails its CRC or parse."""
    raw = read_store_file(path)
    if raw is None:
        return None
    body = raw
    if raw.startswith(SNAPSHOT_MAGIC):
        header, _, body = raw.partition(b"\n")
        try:
            intact = int(header[len(SNAPSHOT_MAGIC):], 16) == zlib.crc32(body)
        except ValueError:
            intact = False
        if not intact:
            raise StoreCorruptedError(str(path), 0, "the snapshot fails its checksum")
    try:
        state = json.loads(body)
        int(state["seq"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreCorruptedError(str(path), 0, f"the snapshot cannot be read ({exc})") from exc
    if not isinstance(state, dict):
        raise StoreCorruptedError(str(path), 0, "the snapshot is not a JSON object")
    return state


@dataclass
class LogScan:
    """A log file read line by line: the intact records, and where the damage is."""
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: (offset, line) of every line that fails its CRC, in order.
    damaged: list[tuple[int, bytes]] = field(default_factory=list)
    #: Offset of a final line without its newline (a torn append), or None.
    torn_at: int | None = None
    size: int = 0


def scan_log(path: Path) -> LogScan:
    scan = LogScan()
    data = read_store_file(path)
    if data is None:
        return scan
    scan.size = len(data)
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        if end < 0:
            scan.torn_at = offset
            break
        line = data[offset:end + 1]
        record = _unframe(line)
        if record is None:
            scan.damaged.append((offset, line))
        else:
            scan.records.append((offset, record))
        offset = end + 1
    return scan


@dataclass
class RepairReport:
    directory: Path
    kept_records: int = 0
    quarantined_records: int = 0
    quarantined_snapshot: bool = False
    quarantined_user_file: bool = False
    torn_bytes: int = 0
    #: Set when a file of the user cannot be read: then nothing of the user was changed.
    unreadable: StoreUnreadableError | None = None
    #: Edges dropped because a node they join was in a quarantined snapshot.
    dropped_edges: int = 0
    quarantine_file: Path | None = None

    @property
    def changed(self) -> bool:
        return bool(self.quarantined_records or self.quarantined_snapshot
                    or self.quarantined_user_file or self.torn_bytes or self.dropped_edges)


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
        """The last snapshot and the log operations after it. A torn final line is cut
        off (logged); any other damage raises ``StoreCorruptedError`` and changes nothing."""
        snap_path = self.directory / SNAPSHOT
        snapshot = read_snapshot(snap_path)
        if snapshot is not None:
            self.seq = int(snapshot["seq"])
            self._snapshot_bytes = snap_path.stat().st_size
        log_path = self.directory / LOG
        scan = scan_log(log_path)
        if scan.damaged:
            offset, _ = scan.damaged[0]
            raise StoreCorruptedError(str(log_path), offset,
                                      f"{len(scan.damaged)} log record(s) fail their checksum")
        ops = []
        for _, record in scan.records:
            if record["seq"] > self.seq:
                self.seq = int(record["seq"])
                ops.append(record["op"])
        if scan.torn_at is not None:
            kept = self._set_aside(log_path.read_bytes()[scan.torn_at:], "torn")
            log.warning("%s: cut off a torn final record of %d bytes at byte %d (a write "
                        "interrupted before it was acknowledged); its bytes are kept in %s",
                        log_path, scan.size - scan.torn_at, scan.torn_at, kept)
            with log_path.open("r+b") as handle:
                handle.truncate(scan.torn_at)
                os.fsync(handle.fileno())
        self._log_bytes = scan.torn_at if scan.torn_at is not None else scan.size
        return snapshot, ops

    def _set_aside(self, data: bytes, what: str) -> Path:
        quarantine = self.directory / QUARANTINE
        quarantine.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = quarantine / f"{LOG}.{stamp}.{what}"
        with target.open("wb") as handle:
            handle.write(data)
            os.fsync(handle.fileno())
        return target

    def repair(self) -> RepairReport:
        """Set damaged log lines and a damaged snapshot aside in the directory's
        ``quarantine`` folder and rewrite the log from its intact lines (atomically). Both
        files are read before either is changed, so one that cannot be read
        (``StoreUnreadableError``) leaves both as they were."""
        report = RepairReport(self.directory)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        quarantine = self.directory / QUARANTINE
        snap_path = self.directory / SNAPSHOT
        try:
            read_snapshot(snap_path)
            snapshot_damaged = False
        except StoreUnreadableError:
            raise
        except StoreCorruptedError:
            snapshot_damaged = True
        log_path = self.directory / LOG
        scan = scan_log(log_path)
        if snapshot_damaged:
            quarantine.mkdir(exist_ok=True)
            os.replace(snap_path, quarantine / f"{SNAPSHOT}.{stamp}")
            report.quarantined_snapshot = True
        report.kept_records = len(scan.records)
        if scan.torn_at is not None:
            report.torn_bytes = scan.size - scan.torn_at
        if scan.damaged or scan.torn_at is not None:
            quarantine.mkdir(exist_ok=True)
            target = quarantine / f"{LOG}.{stamp}"
            with target.open("wb") as handle:
                for offset, line in scan.damaged:
                    handle.write(f"# byte {offset}\n".encode() + line)
                if scan.torn_at is not None:
                    handle.write(f"# byte {scan.torn_at} (torn)\n".encode()
                                 + log_path.read_bytes()[scan.torn_at:] + b"\n")
                os.fsync(handle.fileno())
            report.quarantined_records = len(scan.damaged)
            report.quarantine_file = target
            data = log_path.read_bytes()
            kept = b"".join(data[offset:data.index(b"\n", offset) + 1]
                            for offset, _ in scan.records)
            tmp = self.directory / (LOG + ".tmp")
            with tmp.open("wb") as handle:
                handle.write(kept)
                os.fsync(handle.fileno())
            os.replace(tmp, log_path)
            _fsync_dir(self.directory)
        return report

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
        data = _snapshot_bytes(state)
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
