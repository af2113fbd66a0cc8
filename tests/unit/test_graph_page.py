"""The memory page (personavlm/graph_html.py) on a small real memory graph: every memory's
text and date are on the page (not only in tooltips), a changed preference stays visible
beside its successor with its end date, the photo is an inline thumbnail, the user is one
node even when extraction made an entity of them, and there is a filter by kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graph_pages import write_small_memory_page


@pytest.fixture
def page(tmp_path: Path) -> str:
    return write_small_memory_page(tmp_path).read_text(encoding="utf-8")


def visible_text(page: str) -> str:
    """The page's text outside tooltips (<title> elements)."""
    return re.sub(r"<title>.*?</title>", "", page, flags=re.S)


def test_every_memory_shows_its_text_and_date(page: str) -> None:
    shown = visible_text(page)
    for text in ("Pixel is an orange cat", "Maya moved to Lisbon", "orange cat asleep",
                 "2024-03-02", "2024-05-10", "green tea", "coffee"):
        assert text in shown, text


def test_a_changed_preference_stays_visible_with_its_end(page: str) -> None:
    shown = visible_text(page)
    assert "used to like · 2024-03-02 → 2024-05-10" in shown
    assert "dislikes · 2024-05-10 → now" in shown
    assert "likes · 2024-05-10 → now" in shown
    assert "Maya lives in Porto (until 2024-05-10)" in shown


def test_the_photo_is_a_thumbnail_and_the_user_one_node(page: str) -> None:
    assert page.count('href="data:image/png;base64,') == 1
    assert page.count('<img src="data:image/png;base64,') == 1
    assert page.count('fill="#212121"') == 1  # the user's node
    graph = page[page.index("<h2>Graph</h2>"):page.index("<h2>Memories by date</h2>")]
    assert ">Maya</text>" in graph and graph.count(">Maya</text>") == 1


def test_there_is_a_filter_by_kind(page: str) -> None:
    for kind in ("facts", "photos", "entities", "preferences"):
        assert f"hide-{kind}" in page and f'class="k-{kind}' in page
