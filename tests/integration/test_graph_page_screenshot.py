"""The memory page as a person sees it: headless Chromium renders the page of
tests/graph_pages.py's memory graph; the picture has the photo's thumbnail (the
cat's orange), the changed preference's grey bar beside the current green one, and text
down the page (not an empty or broken render)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from graph_pages import write_small_memory_page
from PIL import Image

from personavlm.screenshot import browser, screenshot

pytestmark = pytest.mark.slow


def pixels_near(pixels: np.ndarray, colour: str, tolerance: int = 40) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).sum(axis=2) < tolerance).sum())


@pytest.mark.skipif(browser() is None, reason="no chromium: scripts/chromium.sh installs it")
def test_the_page_renders_with_thumbnail_timeline_and_text(tmp_path: Path) -> None:
    html = write_small_memory_page(tmp_path)
    png = screenshot(html, tmp_path / "page.png", height=1300)
    with Image.open(png) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=int)
    assert pixels_near(pixels, "#f08a2c", 60) > 300        # the orange cat thumbnail(s)
    assert pixels_near(pixels, "#2e7d32", 60) > 300        # green: likes green tea now
    assert pixels_near(pixels, "#cfcfcf", 8) > 300         # grey: the coffee it replaced
    dark_rows = (pixels.sum(axis=2) < 200).any(axis=1)
    assert dark_rows[:300].any() and dark_rows[700:].any()  # text at the top and further down
