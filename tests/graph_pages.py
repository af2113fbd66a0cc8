"""A small real memory graph and its memory page, for the page's unit test and its
screenshot test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from helpers import HashingEmbedder

from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import Entity, Fact, Image
from memory_graph.writes import LinkedFact, PreferenceChange, TurnMemoryWrite
from personavlm.graph_html import write_graph_html

PHOTO = Path(__file__).resolve().parents[1] / "personavlm/samples/images/cat_on_sofa.png"
T1, T2 = datetime(2024, 3, 2, 19, 0, tzinfo=UTC), datetime(2024, 5, 10, 8, 0, tzinfo=UTC)


def write_small_memory_page(tmp_path: Path) -> Path:
    """A small real memory graph (a photo, a changed preference, a closed fact, an entity
    of the user themself) and its memory page; returns the page's path."""
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
    return out
