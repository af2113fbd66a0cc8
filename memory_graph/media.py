"""Image files of shared photos, one folder per user, addressed by content hash.

Graph nodes hold the hash and the file's URI; the bytes live here so that every backend
stores images the same way. Writes are atomic (temp file + rename)."""

from __future__ import annotations

import os
from pathlib import Path

from memory_graph.errors import InvalidInputError
from memory_graph.schema import stable_id
from memory_graph.store import check_user_id


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        # Absolute, because image nodes record file URIs that must not depend on the cwd.
        self.root = Path(root).expanduser().resolve()

    def user_dir(self, user_id: str) -> Path:
        return self.root / stable_id(check_user_id(user_id))

    def path(self, user_id: str, sha256: str, suffix: str) -> Path:
        if len(sha256) != 64 or suffix not in (".png", ".jpg"):
            raise InvalidInputError(f"bad media key {sha256!r}{suffix!r}")
        return self.user_dir(user_id) / f"{sha256}{suffix}"

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
        folder = self.user_dir(user_id)
        removed = []
        if folder.is_dir():
            for path in folder.iterdir():
                if path.stem not in keep_sha256:
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
