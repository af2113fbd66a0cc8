"""Repair of one user's journal: set damage aside, keep every intact record, and say what
could not be recovered.

Damaged log lines, a damaged snapshot segment (or the snapshot's list of segments, with
all of them) and a damaged acknowledgement file are moved to the directory's
``quarantine`` folder (kept, never deleted); the log is rewritten from its intact lines,
the list from the segments left. Acknowledged records that are neither kept nor set
aside (a journal cut, emptied or deleted, a segment deleted) are reported, and the
acknowledgement file then records what the journal holds, so the user opens again with
what is left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from memory_graph.backends.acks import ACKS, AckFile, Acknowledged, read_acks
from memory_graph.backends.journal import (
    LOG,
    QUARANTINE,
    SNAPSHOT,
    Snapshot,
    find_missing,
    open_snapshot,
    scan_log,
    segment_files,
    write_segment_list,
)
from memory_graph.backends.store_files import write_atomically
from memory_graph.errors import MissingWritesError, StoreCorruptedError, StoreUnreadableError


@dataclass
class RepairReport:
    directory: Path
    kept_records: int = 0
    quarantined_records: int = 0
    quarantined_snapshot: bool = False
    quarantined_user_file: bool = False
    #: The acknowledgement file failed its checksums and was set aside.
    quarantined_acks: bool = False
    torn_bytes: int = 0
    #: Set when a file of the user cannot be read: then nothing of the user was changed.
    unreadable: StoreUnreadableError | None = None
    #: Edges dropped because a node they join was in a quarantined snapshot.
    dropped_edges: int = 0
    quarantine_file: Path | None = None
    #: Acknowledged records that are neither in the files nor set aside.
    unrecovered: list[MissingWritesError] = field(default_factory=list)
    #: Why it cannot be told whether acknowledged records are missing (the acknowledgement
    #: file was gone or damaged), or None.
    unknown: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.quarantined_records or self.quarantined_snapshot
                    or self.quarantined_user_file or self.quarantined_acks or self.torn_bytes
                    or self.dropped_edges or self.unrecovered or self.unknown)


@dataclass
class SegmentCheck:
    """The segments a snapshot lists, checked: those intact (number: file name), the
    files that fail their checksum, and those gone (the records they held are lost)."""
    intact: dict[int, str] = field(default_factory=dict)
    damaged: list[Path] = field(default_factory=list)
    gone: list[MissingWritesError] = field(default_factory=list)


def _check_segments(snapshot: Snapshot | None) -> SegmentCheck:
    check = SegmentCheck()
    if snapshot is None:
        return check
    for number, name in snapshot.segments or ():
        try:
            snapshot.segment(name)
        except StoreUnreadableError:
            raise
        except MissingWritesError as gone:  # a StoreCorruptedError too: caught first
            check.gone.append(gone)
        except StoreCorruptedError:
            check.damaged.append(snapshot.path.parent / name)
        else:
            check.intact[number] = name
    return check


def repair_journal(directory: Path, acks_expected: bool) -> RepairReport:
    """Set damaged log lines, a damaged snapshot and a damaged acknowledgement file
    aside in the directory's ``quarantine`` folder, rewrite the log from its intact
    lines (atomically), report the acknowledged records that are neither kept nor set
    aside, and record what the journal now holds as acknowledged. Every file is read
    before any is changed, so one that cannot be read (``StoreUnreadableError``) leaves
    all as they were."""
    report = RepairReport(directory)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    quarantine = directory / QUARANTINE
    snap_path = directory / SNAPSHOT
    snapshot_damaged = False
    try:
        snapshot = open_snapshot(snap_path)
    except StoreUnreadableError:
        raise
    except StoreCorruptedError:
        snapshot, snapshot_damaged = None, True
    segments = _check_segments(snapshot)
    acks_path = directory / ACKS
    acks = AckFile(acks_path)
    try:
        acked = read_acks(acks_path)
    except StoreUnreadableError:
        raise
    except StoreCorruptedError:
        acked, report.quarantined_acks = None, True
    log_path = directory / LOG
    scan = scan_log(log_path)
    if snapshot_damaged:
        quarantine.mkdir(exist_ok=True)
        os.replace(snap_path, quarantine / f"{SNAPSHOT}.{stamp}")
        report.quarantined_snapshot = True
        # Its segments are listed nowhere now: kept aside with it, not removed as a
        # compaction's leftovers.
        for path in segment_files(directory):
            os.replace(path, quarantine / f"{path.name}.{stamp}")
    elif snapshot is not None and (segments.damaged or segments.gone):
        quarantine.mkdir(exist_ok=True)
        for path in segments.damaged:
            os.replace(path, quarantine / f"{path.name}.{stamp}")
        report.quarantined_snapshot = True
        write_segment_list(snap_path, snapshot.user_id, snapshot.seq, segments.intact)
    if report.quarantined_acks:
        quarantine.mkdir(exist_ok=True)
        os.replace(acks_path, quarantine / f"{ACKS}.{stamp}")
        report.unknown = (f"{acks_path} failed its checksums (set aside), so whether "
                          f"acknowledged writes are missing cannot be told")
    elif acked is None and acks_expected:
        report.unknown = (f"{acks_path} was gone, so whether acknowledged writes are "
                          f"missing cannot be told")
    snapshot_seq = snapshot.seq if snapshot is not None else None
    if acked is not None:
        report.unrecovered = [
            missing for missing in find_missing(directory, acked[1], snapshot_seq, scan)
            if not (snapshot_damaged and missing.path == str(snap_path))]
        acks.generation = acked[0]
    report.unrecovered += segments.gone
    report.kept_records = len(scan.records)
    if scan.torn_at is not None:
        report.torn_bytes = scan.size - scan.torn_at
    log_bytes = scan.size
    if scan.damaged or scan.torn_at is not None:
        quarantine.mkdir(exist_ok=True)
        target = quarantine / f"{LOG}.{stamp}"
        data = log_path.read_bytes()
        with target.open("wb") as handle:
            for offset, line in scan.damaged:
                handle.write(f"# byte {offset}\n".encode() + line)
            if scan.torn_at is not None:
                handle.write(f"# byte {scan.torn_at} (torn)\n".encode()
                             + data[scan.torn_at:] + b"\n")
            os.fsync(handle.fileno())
        report.quarantined_records = len(scan.damaged)
        report.quarantine_file = target
        kept = b"".join(data[offset:data.index(b"\n", offset) + 1]
                        for offset, _ in scan.records)
        write_atomically(log_path, kept)
        log_bytes = len(kept)
    last = max([snapshot_seq or 0, *(seq for _, seq in scan.records)])
    acks.write(Acknowledged(last, log_bytes, snapshot_seq or 0))
    return report

