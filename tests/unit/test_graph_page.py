"""The memory page (personavlm/graph_html.py) on a small real memory graph: every memory's
text and date are on the page (not only in tooltips), a changed preference stays visible
beside its successor with its end date, the photo is an inline thumbnail, the user is one
node even when extraction made an entity of them, and there is a filter by kind."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import Entity, Fact, Image
from memory_graph.writes import LinkedFact, PreferenceChange, TurnMemoryWrite
from personavlm.graph_html import write_graph_html

PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"
T1, T2 = datetime(2024, 3, 2, 19, 0, tzinfo=UTC), datetime(2024, 5, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def page(tmp_path: Path) -> str:
    memory = MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())
    memory.ensure_user("maya", name="Maya")
    photo = Image(id="img-1", user_id="maya", sha256="a" * 64, uri=PHOTO.as_uri(),
                  caption="an orange cat asleep on a sofa", at=T1)
    first, second = memory.add_turns("maya", [
        TurnInput(text="This is Pixel, my cat. I live on coffee.", at=T1, session_id="s1",
                  turn_id="t1"),
        TurnInput(text="I gave up coffee, green tea now.", at=T2, session_id="s2",
                  turn_id="t2")], images={"t1": [photo]})
    pixel = Entity(id="e-pixel", user_id="maya", name="Pixel", kind="pet")
    coffee = Entity(id="e-coffee", user_id="maya", name="coffee", kind="drink")
    tea = Entity(id="e-tea", user_id="maya", name="green tea", kind="drink")
    herself = Entity(id="e-maya", user_id="maya", name="Maya", kind="person")
    memory.record_turn_memories("maya", TurnMemoryWrite(
        turn_id=first.id, at=T1, entities=[pixel, coffee, herself],
        facts=[LinkedFact(Fact(id="f-cat", user_id="maya", at=T1,
                               statement="Pixel is an orange cat"), ["e-pixel"]),
               LinkedFact(Fact(id="f-city", user_id="maya", at=T1,
                               statement="Maya lives in Porto"), ["e-maya"])],
        depicted=[("img-1", "e-pixel")],
        preferences=[PreferenceChange("e-coffee", likes=True, reason="lives on coffee")]))
    memory.record_turn_memories("maya", TurnMemoryWrite(
        turn_id=second.id, at=T2, entities=[tea],
        facts=[LinkedFact(Fact(id="f-move", user_id="maya", at=T2,
                               statement="Maya moved to Lisbon"), [])],
        preferences=[PreferenceChange("e-coffee", likes=False, reason="gave up coffee"),
                     PreferenceChange("e-tea", likes=True, reason="green tea now")],
        closed=["f-city"]))
    out = tmp_path / "memory_graph.html"
    stats = write_graph_html(memory, "maya", out)
    assert stats["nodes"] >= 8 and stats["edges"] >= 5
    return out.read_text(encoding="utf-8")


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
