"""The acknowledgement file of a user's journal: what the journal held when its last write
was acknowledged, kept outside it.

A log that lost records from its end (cut at a record boundary, emptied, deleted) reads as
a shorter intact log, and a deleted snapshot as none: nothing inside the journal tells. So
every acknowledged write, and every compaction, also records here the last acknowledged
sequence number, the log's length then and the last sequence number the snapshot holds;
on open, a journal that holds less is damage (``MissingWritesError``).

The file has two fixed-size slots, each with its CRC and a generation number, overwritten
in place in turn and fsynced: one small write and one fsync per transaction, and a write
torn by a crash leaves the other slot, the acknowledgement before, intact. The file is
created by an atomic rename, so it never exists without an intact slot.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from memory_graph.backends.store_files import read_store_file, write_all, write_atomically
from memory_graph.errors import StoreCorruptedError

ACKS = "wal.ack"
SLOT = 128


@dataclass(frozen=True)
class Acknowledged:
    """What the journal held after its last acknowledged write."""
    seq: int = 0
    #: The log's length in bytes after that write.
    log_bytes: int = 0
    #: The last record the snapshot holds (0: there is no snapshot).
    snapshot_seq: int = 0


def _slot(generation: int, ack: Acknowledged) -> bytes:
    body = f"{generation} {ack.seq} {ack.log_bytes} {ack.snapshot_seq}"
    line = f"{zlib.crc32(body.encode('ascii')):08x} {body}"
    return line.ljust(SLOT - 1).encode("ascii") + b"\n"


def _read_slot(raw: bytes) -> tuple[int, Acknowledged] | None:
    try:
        crc, body = raw.decode("ascii").rstrip(" \n").split(" ", 1)
        if int(crc, 16) != zlib.crc32(body.encode("ascii")):
            return None
        generation, seq, log_bytes, snapshot_seq = (int(part) for part in body.split(" "))
    except ValueError:
        return None
    return generation, Acknowledged(seq, log_bytes, snapshot_seq)


def read_acks(path: Path) -> tuple[int, Acknowledged] | None:
    """The latest intact acknowledgement and its generation, None when there is no file;
    ``StoreCorruptedError`` when neither slot is intact."""
    raw = read_store_file(path)
    if raw is None:
        return None
    intact = [slot for slot in (_read_slot(raw[:SLOT]), _read_slot(raw[SLOT:2 * SLOT]))
              if slot is not None]
    if not intact:
        raise StoreCorruptedError(str(path), 0, "neither acknowledgement record passes its "
                                                "checksum")
    return max(intact, key=lambda slot: slot[0])


class AckFile:
    """Writes a journal's acknowledgements to ``path``, alternating between the slots."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: The generation last read or written; 0: no file is known, the next write
        #: creates it.
        self.generation = 0

    def write(self, ack: Acknowledged) -> None:
        """Durably record ``ack``; returns once it is on disk."""
        generation = self.generation + 1
        slot = _slot(generation, ack)
        offset = SLOT * (generation % 2)
        if self.generation == 0:
            blank = b" " * (SLOT - 1) + b"\n"
            write_atomically(self.path, slot + blank if offset == 0 else blank + slot)
        else:
            fd = os.open(self.path, os.O_WRONLY)  # never recreated here: a lost file shows
            try:
                os.lseek(fd, offset, os.SEEK_SET)
                write_all(fd, slot)
                os.fsync(fd)
            finally:
                os.close(fd)
        self.generation = generation
