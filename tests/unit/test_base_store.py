"""``MemoryGraphStore``, the memory graph as a LangGraph ``BaseStore``, on the real embedded
store (hashing embedder): items round-trip, search is the hybrid search over the user's
whole memory restricted to the namespace, nothing crosses users, the agent's memories are
read only, and deleting an item takes its text out of the store's files (and a turn's
photo out of the media folder)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from langgraph.store.base import BaseStore

from agent_memory.base_store import MemoryGraphStore
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import InvalidInputError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.media import MediaStore
from memory_graph.schema import Image


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryGraphStore]:
    memory = MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())
    memory.ensure_user("alice")
    memory.add_turns("alice", [TurnInput(text="I adopted a grey cat called Miso last spring.",
                                         at="2024-04-02 10:00", session_id="s1")])
    store = MemoryGraphStore(memory)
    yield store
    store.close()


def files_mentioning(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_it_is_a_langgraph_store_whose_items_round_trip(store: MemoryGraphStore) -> None:
    assert isinstance(store, BaseStore)
    value = {"content": "Alice is allergic to peanuts.", "source": "doctor", "severity": 3}
    store.put(("alice", "memories"), "allergy", value)
    item = store.get(("alice", "memories"), "allergy")
    assert item is not None and item.value == value
    assert (item.namespace, item.key) == (("alice", "memories"), "allergy")
    store.put(("alice", "memories"), "allergy", {**value, "severity": 4})
    again = store.get(("alice", "memories"), "allergy")
    assert again is not None and again.value["severity"] == 4
    assert again.created_at == item.created_at
    assert store.get(("alice", "other"), "allergy") is None
    assert store.get(("bob", "memories"), "allergy") is None


def test_search_is_the_hybrid_search_over_the_users_memory(store: MemoryGraphStore) -> None:
    store.put(("alice", "memories"), "vet", {"content": "Miso the cat sees the vet on Fridays."})
    everything = store.search(("alice",), query="Miso cat", limit=5)
    assert {item.namespace for item in everything} >= {("alice", "turns"),
                                                       ("alice", "memories")}
    turn = next(i for i in everything if i.namespace == ("alice", "turns"))
    assert "grey cat" in turn.value["content"] and turn.value["date"].startswith("2024-04-02")
    scores = [item.score for item in everything]
    assert all(score is not None and 0 <= score <= 1 for score in scores)  # as LangGraph's
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    only_items = store.search(("alice", "memories"), query="Miso cat")
    assert [item.key for item in only_items] == ["vet"]
    assert store.search(("alice", "facts"), query="Miso cat") == []


def test_no_result_crosses_users(store: MemoryGraphStore) -> None:
    store.put(("bob", "memories"), "cat", {"content": "Bob's cat Miso is black."})
    for query in ("Miso cat", None):
        found = store.search(("bob",), query=query, limit=20)
        assert found and all(item.namespace[0] == "bob" for item in found)
        assert all("grey" not in str(item.value) for item in found)
    assert store.search(("carol",), query="Miso") == []
    assert store.list_namespaces(prefix=("bob",)) == [("bob", "memories")]


def test_listing_is_newest_first_and_filters_on_values(store: MemoryGraphStore) -> None:
    store.put(("alice", "plans"), "p1", {"content": "Visit Lisbon", "at": "2024-05-01",
                                         "status": "done"})
    store.put(("alice", "plans"), "p2", {"content": "Visit Kyoto", "at": "2024-09-01",
                                         "status": "open"})
    assert [i.key for i in store.search(("alice", "plans"))] == ["p2", "p1"]
    assert [i.key for i in store.search(("alice", "plans"), filter={"status": "done"})] == ["p1"]
    assert [i.key for i in store.search(("alice", "plans"),
                                        filter={"status": {"$ne": "done"}})] == ["p2"]
    assert [i.key for i in store.search(("alice", "plans"), limit=1, offset=1)] == ["p1"]
    assert store.list_namespaces(prefix=("alice",)) == [("alice", "plans"), ("alice", "turns")]
    assert store.list_namespaces(prefix=("alice",), max_depth=1) == [("alice",)]


def test_the_agents_memories_are_read_only_and_delete_forgets(
        store: MemoryGraphStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="read only"):
        store.put(("alice", "turns"), "x", {"content": "I never had a cat."})
    turn = store.search(("alice", "turns"))[0]
    store.delete(("alice", "facts"), turn.key)  # not a fact: nothing happens
    assert store.get(("alice", "turns"), turn.key) is not None
    store.delete(("alice", "turns"), turn.key)
    assert store.get(("alice", "turns"), turn.key) is None
    assert files_mentioning(tmp_path / "db", b"grey cat") == []


def test_deleting_an_item_takes_its_text_out_of_the_store(
        store: MemoryGraphStore, tmp_path: Path) -> None:
    store.put(("alice", "memories"), "pin", {"content": "Her locker code is 4417-zz."})
    assert files_mentioning(tmp_path / "db", b"4417-zz")
    store.delete(("alice", "memories"), "pin")
    store.delete(("alice", "memories"), "pin")  # twice is fine, as in any BaseStore
    assert store.get(("alice", "memories"), "pin") is None
    assert files_mentioning(tmp_path / "db", b"4417-zz") == []


def test_deleting_a_turn_deletes_its_photo_file_and_no_other(tmp_path: Path) -> None:
    """The agent keeps the photos of the store at ``path`` in ``path/media``, which
    ``from_location`` takes by default."""
    memory = MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())
    media = MediaStore(tmp_path / "db" / "media")
    photo, in_flight = b"\x89PNG photo of a locker", b"\x89PNG a turn in progress"
    sha, other = (hashlib.sha256(data).hexdigest() for data in (photo, in_flight))
    kept_file = media.save("alice", sha, ".png", photo)
    in_flight_file = media.save("alice", other, ".png", in_flight)  # its turn is not stored
    memory.ensure_user("alice")
    memory.add_turns("alice", [TurnInput(text="My locker.", at="2024-04-02 10:00",
                                         session_id="s1", turn_id="t1")],
                     images={"t1": [Image(id="img-1", user_id="alice", sha256=sha,
                                          caption="locker")]})
    memory.store.close()
    store = MemoryGraphStore.from_location(tmp_path / "db")
    store.delete(("alice", "turns"), "t1")
    assert store.get(("alice", "images"), "img-1") is None
    assert not kept_file.exists() and in_flight_file.exists()
    store.close()


def test_bad_namespaces_and_values_are_typed_errors(store: MemoryGraphStore) -> None:
    with pytest.raises(InvalidInputError):
        store.put(("bad user id!",), "k", {"content": "x"})
    with pytest.raises(InvalidInputError, match="user"):
        store.list_namespaces()
    with pytest.raises(InvalidInputError):
        store.put(("alice", "memories"), "k", {"content": "x", "at": "not a date"})
    with pytest.raises(InvalidInputError):
        store.search(("alice",), filter={"status": {"$regex": "x"}})
    assert store.search(("alice", "turns"))  # nothing was changed


def test_the_async_api_does_the_same(store: MemoryGraphStore) -> None:
    async def scenario() -> list[str]:
        await store.aput(("alice", "memories"), "tea", {"content": "Alice drinks green tea."})
        return [i.key for i in await store.asearch(("alice", "memories"), query="tea")]

    assert asyncio.run(scenario()) == ["tea"]
