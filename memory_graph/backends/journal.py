"""Crash-safe persistence for one user's embedded graph: snapshot + write-ahead log, and
what they held when the last write was acknowledged (``acks.py``).

A write is acknowledged only after its log line, then the acknowledgement file, are
fsynced. Each line carries a CRC. A failed append (a full disk) takes its partial line back
before it raises, and the next append cuts whatever a failed take-back left, so no write
lands on a partial line. On open, the files must hold every acknowledged record: a log that
ends before the last acknowledged record or is shorter than it was then, a snapshot older
than the last compaction wrote, raise ``MissingWritesError`` naming what is missing. Only
one kind of damage is repaired on open: a final line without its newline after the last
acknowledged write (a kill in the middle of an append, never acknowledged); it is cut off
and logged. Any other damaged line, and a snapshot that fails its CRC, raise
``StoreCorruptedError`` naming the file and the byte offset, and the files are left as they
are: ``repair`` sets damaged lines aside in a quarantine file, keeps every intact one and
reports the acknowledged records it could not recover. A file that is there but cannot be
read raises ``StoreUnreadableError`` (never passes for a missing one), and ``repair`` then
changes nothing. A journal written before the acknowledgement file existed is trusted as
it is once, and gets one.

The snapshot is in segments: ``snapshot.json`` lists the segment files
(``segment-<number>.<seq>.json``), each holding a share of the nodes (a node stays in the
segment it was first written to) and their outgoing edges. Compaction writes the segments
changed since the last one as new files, fsyncs them, writes the list over the old one (a
temporary file renamed), empties the log and removes the files no longer listed (a crash
leaves them for the next open, which removes them); operations are idempotent and
numbered, so a crash between the rename and the truncation replays nothing twice.
Compaction after a deletion rewrites the log and the segments that held the deleted
records, so forgotten text survives in neither, and the rest of the snapshot is not
rewritten. A single-file snapshot of an earlier release is read as it is, and replaced
by segments at its next compaction.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memory_graph.backends.acks import ACKS, AckFile, Acknowledged, read_acks
from memory_graph.backends.store_files import (
    fsync_dir,
    write_all,
    write_atomically,
)
from memory_graph.errors import MissingWritesError, StoreCorruptedError, StoreUnreadableError

SNAPSHOT = "snapshot.json"
LOG = "wal.jsonl"
QUARANTINE = "quarantine"
#: The first line of a snapshot: its body's CRC (snapshots without it are read as before).
SNAPSHOT_MAGIC = b"personavlm-snapshot crc32="
#: The name of a snapshot's segment file: the segment's number and the record it holds up to.
SEGMENT_NAME = re.compile(r"segment-[0-9]{5,}\.[0-9]+\.json")


#: Nodes of a segment: a forget rewrites the few segments its records are in, about
#: 3 MB each with 384-d vectors, whatever the user's size.
SEGMENT_NODES = 2_000


def segment_name(number: int, seq: int) -> str:
    return f"segment-{number:05d}.{seq}.json"

log = logging.getLogger("personavlm.store")


def encode_vector(vector: Sequence[float] | npt.NDArray[np.float32] | None) -> str | None:
    if vector is None:
        return None
    return base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode("ascii")


def decode_vector(blob: str) -> npt.NDArray[np.float32]:
    return np.frombuffer(base64.b64decode(blob), dtype=np.float32)


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _frame(seq: int, op: dict[str, Any]) -> bytes:
    body = _json({"seq": seq, "op": op})
    return f"{zlib.crc32(body):08x} ".encode() + body + b"\n"


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


@dataclass(frozen=True)
class GraphState:
    """What a snapshot holds: records produced one at a time as it is written, so that a
    compaction never holds the user's whole graph as one more copy in memory."""

    user_id: str
    nodes: Iterable[dict[str, Any]]
    edges: Iterable[dict[str, Any]]


#: Lines of a snapshot's body between its records: it is one JSON object, and each record
#: is on a line of its own (after a comma but the first), so it is read record by record.
_NODES_OPEN = b',"nodes":[\n'
_EDGES_OPEN = b'],"edges":[\n'
_CLOSE = b"]}"


def _snapshot_body(state: GraphState, seq: int) -> Iterator[bytes]:
    yield b'{"user_id":' + _json(state.user_id) + b',"seq":' + _json(seq) + _NODES_OPEN
    for number, record in enumerate(state.nodes):
        yield (b"," if number else b"") + _json(record) + b"\n"
    yield _EDGES_OPEN
    for number, record in enumerate(state.edges):
        yield (b"," if number else b"") + _json(record) + b"\n"
    yield _CLOSE


def write_snapshot(path: Path, state: GraphState, seq: int) -> int:
    """Replace ``path`` by a snapshot of ``state`` written record by record: all of it or,
    on any error, nothing (as ``write_atomically``). Its header's CRC, of fixed width, is
    filled in once the body is written. Returns the file's size."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(SNAPSHOT_MAGIC + b"00000000\n")
            crc = 0
            for chunk in _snapshot_body(state, seq):
                handle.write(chunk)
                crc = zlib.crc32(chunk, crc)
            size = handle.tell()
            handle.seek(len(SNAPSHOT_MAGIC))
            handle.write(f"{crc:08x}".encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:  # a record that fails to encode too
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return size


@dataclass(frozen=True)
class Snapshot:
    """A snapshot file that passed its checksum: its sequence number, and its records read
    one at a time (``records``), so opening a large user never holds its whole file, or a
    parse of it, in memory. The list of a segmented snapshot names its ``segments``
    (number, file name); a snapshot written before records had lines of their own is
    parsed whole (``whole``) until its next compaction."""

    path: Path
    seq: int
    body_at: int
    user_id: str
    whole: dict[str, Any] | None = None
    segments: tuple[tuple[int, str], ...] | None = None

    def records(self) -> Iterator[tuple[str, dict[str, Any], int | None]]:
        """(kind, record, segment) for every record: the segment's nodes, then its edges,
        segment by segment (segment None: a single-file snapshot). Each segment is checked
        when it is reached: ``StoreCorruptedError`` naming it when it fails its checksum,
        ``MissingWritesError`` when it is gone."""
        if self.segments is None:
            for kind, record in self._own_records():
                yield kind, record, None
            return
        for number, name in self.segments:
            for kind, record in self.segment(name)._own_records():
                yield kind, record, number

    def segment(self, name: str) -> Snapshot:
        """A segment this snapshot lists, checked: ``StoreCorruptedError`` naming it when it
        fails its checksum or lists segments itself, ``MissingWritesError`` when it is
        gone."""
        path = self.path.parent / name
        segment = open_snapshot(path)
        if segment is None:
            raise MissingWritesError(str(path), 0, "the file is gone; the snapshot, "
                                     f"which holds records up to {self.seq}, lists it")
        if segment.segments is not None:
            raise StoreCorruptedError(str(path), 0, "a segment that lists segments")
        return segment

    def _own_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if self.whole is not None:
            for kind in ("nodes", "edges"):
                for record in self.whole[kind]:
                    yield kind, record
            return
        kind = "nodes"
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.body_at)
                handle.readline()  # the header: user and sequence number
                offset = handle.tell()
                for line in handle:
                    if line == _EDGES_OPEN:
                        kind = "edges"
                    elif line != _CLOSE:
                        yield kind, json.loads(line[1:] if line.startswith(b",") else line)
                    offset += len(line)
        except ValueError as exc:
            raise StoreCorruptedError(str(self.path), offset,
                                      f"the snapshot cannot be read ({exc})") from exc
        except OSError as exc:
            raise StoreUnreadableError(str(self.path), exc) from exc


def open_snapshot(path: Path) -> Snapshot | None:
    """The snapshot file, checked: None when there is none; ``StoreCorruptedError`` when
    it fails its CRC or cannot be parsed, ``StoreUnreadableError`` when it cannot be read.
    The check reads the file in blocks; the records are read later, by ``records``."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
            body_at = 0
            if first.startswith(SNAPSHOT_MAGIC):
                body_at = len(first)
                crc = 0
                for block in iter(lambda: handle.read(1 << 20), b""):
                    crc = zlib.crc32(block, crc)
                try:
                    intact = int(first[len(SNAPSHOT_MAGIC):], 16) == crc
                except ValueError:
                    intact = False
                if not intact:
                    raise StoreCorruptedError(str(path), 0, "the snapshot fails its checksum")
            handle.seek(body_at)
            header = handle.readline()
            if header.endswith(_NODES_OPEN):
                state = json.loads(header[: -len(_NODES_OPEN)] + b"}")
                return Snapshot(path, int(state["seq"]), body_at, str(state["user_id"]))
            handle.seek(body_at)
            state = json.loads(handle.read())
            if not isinstance(state, dict):
                raise StoreCorruptedError(str(path), 0, "the snapshot is not a JSON object")
            user_id = str(state.get("user_id", ""))
            if "segments" in state:
                return Snapshot(path, int(state["seq"]), body_at, user_id,
                                segments=_listed(path, state["segments"]))
            return Snapshot(path, int(state["seq"]), body_at, user_id, whole=state)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreCorruptedError(str(path), 0, f"the snapshot cannot be read ({exc})") from exc
    except OSError as exc:  # a directory in its place, no permission, an I/O error
        raise StoreUnreadableError(str(path), exc) from exc


def _listed(path: Path, entries: list[dict[str, Any]]) -> tuple[tuple[int, str], ...]:
    """The segments a snapshot's list names, each a file of the list's directory."""
    listed = tuple((int(entry["number"]), str(entry["file"])) for entry in entries)
    for _, name in listed:
        if not SEGMENT_NAME.fullmatch(name):
            raise StoreCorruptedError(str(path), 0, f"the snapshot lists {name!r}, "
                                      "which is not a segment file's name")
    return listed


def write_segment_list(path: Path, user_id: str, seq: int,
                       segments: Mapping[int, str]) -> None:
    """Replace the snapshot at ``path`` by the list of its ``segments`` (number: file),
    with its checksum, atomically."""
    body = _json({"user_id": user_id, "seq": seq, "segments": [
        {"number": number, "file": name} for number, name in sorted(segments.items())]})
    write_atomically(path, SNAPSHOT_MAGIC + f"{zlib.crc32(body):08x}\n".encode() + body)


def segment_files(directory: Path) -> list[Path]:
    """The segment files in ``directory``, listed or not, and their temporary files."""
    return sorted(p for p in directory.iterdir()
                  if SEGMENT_NAME.fullmatch(p.name.removesuffix(".tmp")))


@dataclass
class LogScan:
    """A log file read line by line: where its intact records are, and where the damage
    is. The records themselves are not kept (a log can be as large as the snapshot):
    ``log_ops`` reads them again, one at a time."""
    #: (offset, sequence number) of every intact record, in order.
    records: list[tuple[int, int]] = field(default_factory=list)
    #: (offset, line) of every line that fails its CRC, in order.
    damaged: list[tuple[int, bytes]] = field(default_factory=list)
    #: Offset of a final line without its newline (a torn append), or None.
    torn_at: int | None = None
    size: int = 0
    exists: bool = False

    @property
    def end(self) -> int:
        """Where the complete lines end."""
        return self.torn_at if self.torn_at is not None else self.size

    def last_seq(self, base: int) -> int:
        """The last record the log holds after record ``base`` (``base`` if none), counting
        each damaged line after the last intact record as the next one: repair sets those
        aside, they are not missing."""
        last_offset = self.records[-1][0] if self.records else -1
        intact = max([base, *(seq for _, seq in self.records)])
        return intact + sum(1 for offset, _ in self.damaged if offset > last_offset)


def _log_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every line of the log, the last one with or without its newline;
    nothing when there is no log. ``StoreUnreadableError`` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            offset = 0
            for line in handle:
                yield offset, line
                offset += len(line)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreUnreadableError(str(path), exc) from exc


def scan_log(path: Path) -> LogScan:
    scan = LogScan(exists=path.exists())
    for offset, line in _log_lines(path):
        scan.size = offset + len(line)
        if not line.endswith(b"\n"):
            scan.torn_at = offset
            break
        record = _unframe(line)
        if record is None:
            scan.damaged.append((offset, line))
        else:
            scan.records.append((offset, int(record["seq"])))
    return scan


def log_ops(path: Path, scan: LogScan, after: int) -> Iterator[dict[str, Any]]:
    """The operations of the log's intact records numbered after ``after``, in order, read
    one at a time; ``StoreCorruptedError`` if one of them no longer passes its CRC."""
    wanted = {offset for offset, seq in scan.records if seq > after}
    last = after
    for offset, line in _log_lines(path):
        if offset not in wanted:
            continue
        record = _unframe(line)
        if record is None:
            raise StoreCorruptedError(str(path), offset, "a log record changed while read")
        if record["seq"] > last:
            last = int(record["seq"])
            yield record["op"]


def _records(first: int, last: int) -> str:
    return f"record {first} was" if first == last else f"records {first} to {last} were"


def find_missing(directory: Path, acked: Acknowledged, snapshot_seq: int | None,
                 scan: LogScan) -> list[MissingWritesError]:
    """The acknowledged records the files no longer hold: the snapshot's when it holds
    fewer than the last compaction wrote (``snapshot_seq`` None: there is none), the log's
    when it ends before the last acknowledged record or is shorter than it was then."""
    missing = []
    if acked.snapshot_seq > (snapshot_seq or 0):
        held = "the file is gone" if snapshot_seq is None else \
            f"it holds records up to {snapshot_seq}"
        missing.append(MissingWritesError(
            str(directory / SNAPSHOT), 0,
            f"{held}; {_records(1, acked.snapshot_seq)} acknowledged in it",
            (snapshot_seq or 0) + 1, acked.snapshot_seq))
    base = max(snapshot_seq or 0, acked.snapshot_seq)
    if acked.seq <= base:  # the snapshot holds every acknowledged record
        return missing
    path = str(directory / LOG)
    last = scan.last_seq(base)
    first = last + 1
    span = f"{_records(first, acked.seq)} acknowledged ({acked.log_bytes} bytes)"
    if not scan.exists:
        missing.append(MissingWritesError(path, 0, f"the file is gone; {span} in it",
                                          first, acked.seq))
    elif scan.size == 0:
        missing.append(MissingWritesError(path, 0, f"the file is empty; {span} in it",
                                          first, acked.seq))
    elif last < acked.seq:
        where = (f"in the middle of a record that starts at byte {scan.torn_at}"
                 if scan.torn_at is not None else f"after record {last}")
        missing.append(MissingWritesError(
            path, scan.end, f"it ends at byte {scan.size} {where}; "
            f"{_records(first, acked.seq)} acknowledged (bytes {scan.end} to {acked.log_bytes})",
            first, acked.seq))
    elif scan.end < acked.log_bytes:
        missing.append(MissingWritesError(
            path, scan.end, f"it holds records up to {last} but is {scan.end} bytes long; "
            f"{acked.log_bytes} bytes were acknowledged, so records before its end are gone"))
    return missing


class Journal:
    """Snapshot, log and acknowledgement files of one user's graph in ``directory``."""

    def __init__(self, directory: Path, compact_bytes: int = 32 * 1024 * 1024,
                 segment_nodes: int = SEGMENT_NODES, read_only: bool = False) -> None:
        self.directory = directory
        self.compact_bytes = compact_bytes
        #: How many nodes a segment takes before new nodes go to a new one.
        self.segment_nodes = segment_nodes
        #: Read beside the process that writes: ``load`` changes no file (a torn final
        #: record is a write in progress, left alone), and nothing is written.
        self.read_only = read_only
        if not read_only:
            directory.mkdir(parents=True, exist_ok=True)
        self.seq = 0
        self._log_bytes = 0
        self._snapshot_seq = 0
        #: The snapshot's segments, as its list names them (number: file name).
        self.segments: dict[int, str] = {}
        self._acks = AckFile(directory / ACKS)

    def create(self) -> None:
        """Start a new, empty journal: its acknowledgement file first, so a user file that
        says the journal keeps one is never without it."""
        self._acks.write(Acknowledged())

    def load(self, acks_expected: bool) -> tuple[Snapshot | None, Iterator[dict[str, Any]]]:
        """The last snapshot and the log operations after it (both read as they are
        consumed: the snapshot's records first, then the operations). A torn final line after the
        last acknowledged write is cut off (logged); missing acknowledged records raise
        ``MissingWritesError``, any other damage ``StoreCorruptedError``, and change
        nothing. Without an acknowledgement file (``acks_expected`` False: a journal from
        before it existed) the journal is trusted as it is, and gets one."""
        snap_path = self.directory / SNAPSHOT
        snapshot = open_snapshot(snap_path)
        acked = read_acks(self.directory / ACKS)
        log_path = self.directory / LOG
        scan = scan_log(log_path)
        if scan.damaged:
            offset, _ = scan.damaged[0]
            raise StoreCorruptedError(str(log_path), offset,
                                      f"{len(scan.damaged)} log record(s) fail their checksum")
        snapshot_seq = snapshot.seq if snapshot is not None else None
        if acked is not None:
            missing = find_missing(self.directory, acked[1], snapshot_seq, scan)
            if missing:
                raise missing[0]
            self._acks.generation = acked[0]
        elif acks_expected:
            raise StoreCorruptedError(str(self.directory / ACKS), 0,
                                      "the acknowledgement file is gone, so whether "
                                      "acknowledged writes are missing cannot be told")
        elif snapshot is not None or scan.exists:
            log.warning("%s has no %s (written before the store kept one): its journal is "
                        "trusted as it is this once", self.directory, ACKS)
        if snapshot is not None:
            self.seq = self._snapshot_seq = snapshot.seq
            self.segments = dict(snapshot.segments or ())
        ops = log_ops(log_path, scan, self.seq)
        self.seq = max([self.seq, *(seq for _, seq in scan.records)])
        self._log_bytes = scan.end
        if self.read_only:
            return snapshot, ops
        self._remove_unlisted_segments()
        if scan.torn_at is not None:
            self._cut_torn_tail(log_path, scan.torn_at, scan.size, known=acked is not None)
        now = Acknowledged(self.seq, self._log_bytes, self._snapshot_seq)
        if acked is None or acked[1] != now:
            self._acks.write(now)
        return snapshot, ops

    def _cut_torn_tail(self, log_path: Path, torn_at: int, size: int, known: bool) -> None:
        kept = self._set_aside(log_path.read_bytes()[torn_at:], "torn")
        why = ("never acknowledged: the last acknowledged write ends before it" if known else
               "a write interrupted by a crash; the store kept no acknowledgement file "
               "then, so whether it was acknowledged cannot be told")
        log.warning("%s: cut off a torn final record of %d bytes at byte %d (%s); its bytes "
                    "are kept in %s", log_path, size - torn_at, torn_at, why, kept)
        with log_path.open("r+b") as handle:
            handle.truncate(torn_at)
            os.fsync(handle.fileno())

    def _set_aside(self, data: bytes, what: str) -> Path:
        quarantine = self.directory / QUARANTINE
        quarantine.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = quarantine / f"{LOG}.{stamp}.{what}"
        with target.open("wb") as handle:
            handle.write(data)
            os.fsync(handle.fileno())
        return target

    def append(self, op: dict[str, Any]) -> None:
        """Durably append one operation; returns once it is acknowledged (its line and the
        acknowledgement are on disk). On any error nothing of it stays in the log."""
        seq, frame = self.seq + 1, _frame(self.seq + 1, op)
        path = self.directory / LOG
        created = not os.path.lexists(path)
        if created and self._log_bytes:
            raise self._lost_while_open(path, "it was deleted")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size < self._log_bytes:
                raise self._lost_while_open(path, f"it was cut to {size} bytes")
            try:
                if size > self._log_bytes:
                    os.ftruncate(fd, self._log_bytes)  # left by a failed take-back
                os.lseek(fd, self._log_bytes, os.SEEK_SET)
                write_all(fd, frame)
                os.fsync(fd)
                if created:
                    fsync_dir(self.directory)
                self._acks.write(Acknowledged(seq, self._log_bytes + len(frame),
                                              self._snapshot_seq))
            except OSError:
                self._take_back(fd, path)
                raise
        finally:
            os.close(fd)
        self.seq = seq
        self._log_bytes += len(frame)

    def _lost_while_open(self, path: Path, what: str) -> MissingWritesError:
        return MissingWritesError(str(path), 0, f"{what} while the store had it open; "
                                  f"{self._log_bytes} bytes of it were acknowledged")

    def _take_back(self, fd: int, path: Path) -> None:
        """Cut a failed append's bytes off the log, as far as the disk lets."""
        try:
            os.ftruncate(fd, self._log_bytes)
            os.fsync(fd)
        except OSError as exc:
            log.warning("%s: could not cut a failed append off (%s); the next append cuts "
                        "it, and a reopen drops it as never acknowledged", path, exc)

    def _remove_unlisted_segments(self) -> None:
        """Remove the segment files the snapshot does not list: a compaction's that did
        not finish (written, never listed) or that finished but was stopped before it
        removed what it replaced (which may hold forgotten text)."""
        listed = set(self.segments.values())
        for path in segment_files(self.directory):
            if path.name not in listed:
                path.unlink()
                log.info("%s: removed %s, which the snapshot does not list", self.directory,
                         path.name)

    def wants_compaction(self) -> bool:
        return self._log_bytes > self.compact_bytes

    def compact(self, user_id: str, rewritten: Mapping[int, GraphState | None]) -> None:
        """Fold the log into the snapshot, crash-safe: write the ``rewritten`` segments
        (None: a segment now empty, dropped) as new files, list them with the others in
        place of the old list, empty the log, then remove the files they replace."""
        written: dict[int, str] = {}
        try:
            for number, state in sorted(rewritten.items()):
                if state is not None:
                    written[number] = segment_name(number, self.seq)
                    write_snapshot(self.directory / written[number], state, self.seq)
            listed = {number: name for number, name in self.segments.items()
                      if number not in rewritten} | written
            write_segment_list(self.directory / SNAPSHOT, user_id, self.seq, listed)
        except BaseException:
            for number, name in written.items():
                if self.segments.get(number) != name:
                    (self.directory / name).unlink(missing_ok=True)
            raise
        replaced, self.segments = self.segments, listed
        self._snapshot_seq = self.seq
        with (self.directory / LOG).open("wb") as handle:
            self._log_bytes = 0
            os.fsync(handle.fileno())
        self._acks.write(Acknowledged(self.seq, 0, self.seq))
        for number, name in replaced.items():
            if listed.get(number) != name:
                (self.directory / name).unlink(missing_ok=True)
        fsync_dir(self.directory)
