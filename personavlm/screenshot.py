"""A PNG of an HTML page, taken by headless Chromium (Debian's ``chromium``;
``scripts/chromium.sh`` installs it): how the docs' figures of the memory page are made
and how the tests look at it as a person would."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from memory_graph.errors import ConfigurationError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    """The headless browser on this machine, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 1600,
               timeout: float = 90) -> Path:
    """Render ``page`` at ``width`` by ``height`` CSS pixels and write it to ``png``."""
    binary = browser()
    if binary is None:
        raise ConfigurationError("no headless Chromium here: run scripts/chromium.sh "
                                 "(Debian's chromium package)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="personavlm-chromium-") as profile:
        done = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png.resolve()}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not png.exists():
        raise RuntimeError(f"{binary} could not screenshot {page}: {done.stderr[-800:]}")
    return png
