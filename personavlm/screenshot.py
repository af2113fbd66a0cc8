"""A PNG of an HTML page, taken by headless Chromium (Debian's ``chromium``;
``scripts/chromium.sh`` installs it): how the docs' figures of the memory page are made
and how the tests look at it as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from memory_graph.errors import ConfigurationError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: A Chromium or Chrome binary to use instead of the ones on the PATH.
BROWSER_VARIABLE = "PERSONAVLM_CHROMIUM"
NO_BROWSER = (
    "no headless Chromium here, so no PNG (the HTML page is written). Any of: "
    "`sudo apt install chromium` (Debian, Ubuntu; or `bash scripts/chromium.sh` as root), "
    "`sudo dnf install chromium` (Fedora), or a Chrome/Chromium you unpacked anywhere, "
    f"named by ${BROWSER_VARIABLE}=/path/to/chrome (no root needed)")


def browser() -> str | None:
    """The headless browser: ``$PERSONAVLM_CHROMIUM``, else one on the PATH, else None."""
    given = os.environ.get(BROWSER_VARIABLE)
    if given:
        return shutil.which(given) or (given if os.access(given, os.X_OK) else None)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 1600,
               timeout: float = 90) -> Path:
    """Render ``page`` at ``width`` by ``height`` CSS pixels and write it to ``png``."""
    binary = browser()
    if binary is None:
        raise ConfigurationError(NO_BROWSER)
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
