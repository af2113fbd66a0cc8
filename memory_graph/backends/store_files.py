"""File operations of the embedded store that must not lie about what is on disk."""

from __future__ import annotations

import os
from pathlib import Path

from memory_graph.errors import StoreUnreadableError


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


def fsync_dir(path: Path) -> None:
    """Make a directory's entries durable (a file created or renamed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` at the descriptor's offset (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data``: all of it or, on any error, nothing (the temporary
    file is removed, so a full disk keeps no half-written copy)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
