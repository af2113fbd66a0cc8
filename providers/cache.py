"""Where slow-to-build artefacts (extracted models, wheels) live: the user's cache."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$PERSONAVLM_CACHE``, else ``$XDG_CACHE_HOME/personavlm``, else ``~/.cache/personavlm``."""
    explicit = os.environ.get("PERSONAVLM_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "personavlm"
