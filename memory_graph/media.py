"""Image files of shared photos, one folder per user, addressed by content hash.

Graph nodes hold the hash and the file's URI; the bytes live here so that every backend
stores images the same way. Writes are atomic (temp file + rename).

A media key can come from a run's state, which a served client might try to shape: every
file operation goes through ``path``, which takes only a 64-character lower-case hex hash
and an allowed suffix, and checks that the result lies inside the user's own folder."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from memory_graph.errors import InvalidInputError
from memory_graph.schema import stable_id
from memory_graph.store import check_user_id

MEDIA_SUFFIXES = (".png", ".jpg")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        # Absolute, because image nodes record file URIs that must not depend on the cwd.
        self.root = Path(root).expanduser().resolve()

    def user_dir(self, user_id: str) -> Path:
        return self.root / stable_id(check_user_id(user_id))

    def path(self, user_id: str, sha256: str, suffix: str) -> Path:
        """The file of a photo: refused (``InvalidInputError``) unless the key is a SHA-256
        hex digest and an allowed suffix whose file lies inside the user's folder."""
        if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)
                and isinstance(suffix, str) and suffix in MEDIA_SUFFIXES):
            raise InvalidInputError(f"bad media key {str(sha256)[:80]!r}{str(suffix)[:8]!r}")
        folder = self.user_dir(user_id)
        target = folder / f"{sha256}{suffix}"
        if target.resolve().parent != folder.resolve():
            raise InvalidInputError(f"media key {sha256}{suffix} leaves the user's folder")
        return target

    def load(self, user_id: str, sha256: str, suffix: str) -> bytes:
        return self.path(user_id, sha256, suffix).read_bytes()

    def save(self, user_id: str, sha256: str, suffix: str, data: bytes) -> Path:
        target = self.path(user_id, sha256, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return target

    def discard(self, user_id: str, sha256: str, suffix: str) -> None:
        self.path(user_id, sha256, suffix).unlink(missing_ok=True)

    def delete_unreferenced(self, user_id: str, keep_sha256: set[str]) -> list[Path]:
        """Remove the user's files whose hash no stored image has any more."""
        return self._remove(user_id, lambda stem: stem not in keep_sha256)

    def delete(self, user_id: str, sha256s: set[str]) -> list[Path]:
        """Remove the user's files of these hashes, and no other (a photo a turn in
        progress saved, whose image is not stored yet, stays)."""
        return self._remove(user_id, lambda stem: stem in sha256s)

    def _remove(self, user_id: str, doomed: Callable[[str], bool]) -> list[Path]:
        folder = self.user_dir(user_id)
        removed = []
        if folder.is_dir():
            for path in folder.iterdir():
                if doomed(path.stem):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    def drop_user(self, user_id: str) -> list[Path]:
        """Remove every file of the user and their folder; returns the files removed."""
        removed = self.delete_unreferenced(user_id, set())
        folder = self.user_dir(user_id)
        if folder.is_dir():
            folder.rmdir()
        return removed
