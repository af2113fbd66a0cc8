"""The conformance suite every ``GraphStore`` backend must pass, importable so a
third-party backend can run it too. Needs pytest. In a test module of yours::

    import pytest
    from memory_graph.conformance import *  # noqa: F403 (the tests and their fixtures)

    @pytest.fixture
    def store(tmp_path):
        yield MyStore(...)      # an empty store; close it after the test

The project runs it against networkx, a real FalkorDB server and (with ``NEO4J_URI``)
Neo4j: tests/conformance/.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from memory_graph.embedding import DEFAULT_EMBEDDING_DIMENSION
from memory_graph.errors import (
    InvalidInputError,
    InvalidTimestampError,
    UnknownMemoryError,
    UnknownUserError,
)
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import (
    Edge,
    EdgeType,
    Entity,
    Event,
    Fact,
    Node,
    NodeLabel,
    Routine,
    Session,
    StoreItemRef,
    Turn,
)
from memory_graph.search import HybridSearch, recipe
from memory_graph.store import GraphStore, TimeWindow, WriteBatch
from memory_graph.writes import (
    CitedFact,
    SessionConsolidationWrite,
    SessionEvent,
    TurnMemoryWrite,
)

__all__ = [
    "HashingEmbedder",
    "ana",
    "memory",
    "test_a_batch_deletes_and_writes_together",
    "test_a_batch_that_fails_anywhere_leaves_nothing",
    "test_a_claim_taken_over_is_settled_only_by_its_new_owner",
    "test_a_consolidation_links_its_provenance_chains_events_and_prunes_routines",
    "test_a_fact_and_a_routine_made_untrue_are_closed_in_valid_time",
    "test_a_memory_kept_on_request_is_searchable_replaceable_and_forgettable",
    "test_a_mixed_batch_commits_whole",
    "test_a_statement_failing_inside_the_database_rolls_the_batch_back",
    "test_a_turn_stored_before_its_reply_is_unanswered_until_the_reply",
    "test_bad_turns_are_rejected_and_nothing_changes",
    "test_concurrent_writers_of_different_users_stay_apart",
    "test_contradicted_preference_is_closed_not_deleted",
    "test_edges_to_missing_or_foreign_nodes_are_rejected",
    "test_forgetting_a_session_removes_its_turns",
    "test_forgetting_a_turn_removes_its_text_from_everywhere_it_reached",
    "test_forgetting_a_turn_removes_later_memories_that_copied_it",
    "test_forgetting_a_turn_removes_what_was_derived_from_it",
    "test_forgetting_a_turn_scrubs_later_texts_that_quote_it",
    "test_forgetting_an_id_that_is_not_the_users_turn_or_session_changes_nothing",
    "test_hybrid_search_uses_neighbourhood_time_window_and_exclusions",
    "test_keyword_search_ranks_matches_and_filters_by_time",
    "test_memory_graph_reads_what_the_agent_needs",
    "test_memory_work_is_claimed_by_one_owner_at_a_time",
    "test_nodes_round_trip_with_types_times_and_vectors",
    "test_of_owners_claiming_at_once_exactly_one_gets_the_work",
    "test_the_latest_nodes_are_the_latest_by_event_time",
    "test_turns_are_chained_in_order_and_linked_to_their_session",
    "test_users_are_created_listed_and_unknown_ones_rejected",
    "test_users_never_see_each_other",
    "test_vector_search_finds_nearest_within_window",
    "test_work_settled_after_its_turn_was_forgotten_does_not_bring_it_back",
]


class HashingEmbedder:
    """Hashed bag of words, unit-normalised: shared words mean similar vectors. A
    deterministic, model-free embedder for tests."""

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(DEFAULT_EMBEDDING_DIMENSION)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            index = int(hashlib.md5(word.encode()).hexdigest(), 16) % DEFAULT_EMBEDDING_DIMENSION
            vector[index] += 1.0
        norm = np.linalg.norm(vector)
        return [float(x) for x in (vector / norm if norm else vector)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


@pytest.fixture
def memory(store: GraphStore) -> MemoryGraph:
    return MemoryGraph(store, HashingEmbedder())


T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def _turns(session: str, start: datetime, texts: list[str]) -> list[TurnInput]:
    return [TurnInput(text=t, at=start + timedelta(minutes=i), session_id=session, seq=i,
                      speaker="Ana", turn_id=f"{session}-{i}") for i, t in enumerate(texts)]


def _snapshot(memory: MemoryGraph, user_id: str) -> tuple[list[str], list[str]]:
    store = memory.store
    nodes = sorted(n.id for label in NodeLabel for n in store.find_nodes(user_id, label))
    edges = sorted(e.id for e in store.edges(user_id))
    return nodes, edges


@pytest.fixture
def ana(memory: MemoryGraph) -> MemoryGraph:
    memory.ensure_user("t-ana", name="Ana")
    memory.add_turns("t-ana", _turns("s1", T0, [
        "I adopted a beagle puppy called Pixel",
        "Pixel chews every shoe in the flat",
        "I paint watercolours of the harbour",
    ]))
    memory.add_turns("t-ana", _turns("s2", T0 + timedelta(days=30), [
        "I switched to oil paints last month",
        "Pixel graduated from puppy school",
    ]))
    return memory


def test_users_are_created_listed_and_unknown_ones_rejected(ana: MemoryGraph) -> None:
    store = ana.store
    assert store.has_user("t-ana")
    assert "t-ana" in store.users()
    assert not store.has_user("t-nobody")
    for call in (lambda: store.get_nodes("t-nobody", ["x"]),
                 lambda: store.find_nodes("t-nobody", NodeLabel.TURN),
                 lambda: store.edges("t-nobody"),
                 lambda: store.keyword_search("t-nobody", NodeLabel.TURN, "pixel", 5),
                 lambda: store.vector_search("t-nobody", NodeLabel.TURN, [0.1] * 384, 5),
                 lambda: store.commit("t-nobody", WriteBatch(delete_node_ids=["x"]))):
        with pytest.raises(UnknownUserError):
            call()
    with pytest.raises(InvalidInputError):
        store.has_user("bad user id with spaces")


def test_nodes_round_trip_with_types_times_and_vectors(ana: MemoryGraph) -> None:
    turn = ana.store.get_nodes("t-ana", ["s1-0"])[0]
    assert isinstance(turn, Turn)
    assert turn.text == "I adopted a beagle puppy called Pixel"
    assert turn.at == T0 and turn.at.tzinfo is not None
    assert turn.embedding is not None and len(turn.embedding) == 384
    session = ana.store.get_nodes("t-ana", ["s2"])[0]
    assert isinstance(session, Session) and session.started_at == T0 + timedelta(days=30)
    assert [t.id for t in ana.session_turns("t-ana", "s1")] == ["s1-0", "s1-1", "s1-2"]
    found = ana.store.find_nodes("t-ana", NodeLabel.TURN, {"session_id": "s2"})
    assert sorted(n.id for n in found) == ["s2-0", "s2-1"]


def test_the_latest_nodes_are_the_latest_by_event_time(ana: MemoryGraph) -> None:
    store = ana.store
    assert [s.id for s in store.latest_nodes("t-ana", NodeLabel.SESSION, 2)] == ["s2", "s1"]
    assert ana.latest_session("t-ana").id == "s2"  # type: ignore[union-attr]
    ana.add_turns("t-ana", _turns("s0", T0 - timedelta(days=3), ["An older memory"]))
    assert ana.latest_session("t-ana").id == "s2"  # type: ignore[union-attr]
    latest_turns = store.latest_nodes("t-ana", NodeLabel.TURN, 1)
    assert [t.id for t in latest_turns] == ["s2-1"]
    assert latest_turns[0].embedding is not None  # type: ignore[attr-defined]
    store.commit("t-ana", WriteBatch(delete_node_ids=["s2"]))
    assert [s.id for s in store.latest_nodes("t-ana", NodeLabel.SESSION, 5)] == ["s1", "s0"]
    with pytest.raises(UnknownUserError):
        store.latest_nodes("t-nobody", NodeLabel.SESSION)


def test_turns_are_chained_in_order_and_linked_to_their_session(ana: MemoryGraph) -> None:
    nexts = {(e.source, e.target) for e in ana.store.edges("t-ana", types=[EdgeType.NEXT])}
    assert nexts == {("s1-0", "s1-1"), ("s1-1", "s1-2"), ("s2-0", "s2-1")}
    members = ana.store.edges("t-ana", ["s1"], [EdgeType.IN_SESSION], "in")
    assert sorted(e.source for e in members) == ["s1-0", "s1-1", "s1-2"]


def test_keyword_search_ranks_matches_and_filters_by_time(ana: MemoryGraph) -> None:
    hits = ana.store.keyword_search("t-ana", NodeLabel.TURN, "oil paints", 5)
    assert hits and hits[0].node.id == "s2-0"
    pixel = ana.store.keyword_search("t-ana", NodeLabel.TURN, "Pixel", 10)
    assert {h.node.id for h in pixel} == {"s1-0", "s1-1", "s2-1"}
    window = TimeWindow(T0 + timedelta(days=10), T0 + timedelta(days=40))
    later = ana.store.keyword_search("t-ana", NodeLabel.TURN, "Pixel", 10, window)
    assert [h.node.id for h in later] == ["s2-1"]
    assert ana.store.keyword_search("t-ana", NodeLabel.TURN, "the of and", 5) == []


def test_vector_search_finds_nearest_within_window(ana: MemoryGraph) -> None:
    query = HashingEmbedder().embed_query("beagle puppy Pixel adopted")
    hits = ana.store.vector_search("t-ana", NodeLabel.TURN, query, 2)
    assert hits[0].node.id == "s1-0"
    assert hits[0].score >= hits[1].score
    window = TimeWindow(start=T0 + timedelta(days=10))
    assert all(h.node.id.startswith("s2") for h in
               ana.store.vector_search("t-ana", NodeLabel.TURN, query, 5, window))
    with pytest.raises(InvalidInputError):
        ana.store.vector_search("t-ana", NodeLabel.TURN, [1.0, 0.0], 2)


def test_users_never_see_each_other(memory: MemoryGraph) -> None:
    for user in ("t-a", "t-b"):
        memory.ensure_user(user)
        memory.add_turns(user, _turns("s1", T0, [f"secret of {user} about kayaks"]))
    hits = memory.store.keyword_search("t-a", NodeLabel.TURN, "kayaks secret", 10)
    assert [h.node.user_id for h in hits] == ["t-a"]
    vec = HashingEmbedder().embed_query("secret kayaks")
    assert {h.node.user_id for h in memory.store.vector_search("t-b", NodeLabel.TURN, vec, 10)} \
        == {"t-b"}
    turn_a = memory.store.get_nodes("t-a", ["s1-0"])[0]
    assert isinstance(turn_a, Turn) and "t-a" in turn_a.text
    with pytest.raises(InvalidInputError):
        memory.store.commit("t-b", WriteBatch(nodes=[turn_a]))
    memory.forget_user("t-a")
    assert not memory.store.has_user("t-a")
    assert len(memory.store.keyword_search("t-b", NodeLabel.TURN, "kayaks", 10)) == 1


def test_concurrent_writers_of_different_users_stay_apart(memory: MemoryGraph) -> None:
    users = [f"t-w{i}" for i in range(4)]
    for user in users:
        memory.ensure_user(user)
    errors: list[BaseException] = []

    def write(user: str) -> None:
        try:
            for batch in range(5):
                memory.add_turns(user, _turns(f"s{batch}", T0 + timedelta(days=batch),
                                              [f"{user} note {batch} {j}" for j in range(4)]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for user in users:
        turns = memory.store.find_nodes(user, NodeLabel.TURN)
        assert len(turns) == 20
        assert all(isinstance(t, Turn) and t.text.startswith(user) for t in turns)


def test_contradicted_preference_is_closed_not_deleted(ana: MemoryGraph) -> None:
    paint = Entity(id="e-watercolour", user_id="t-ana", name="watercolour painting",
                   kind="activity")
    ana.upsert_entity("t-ana", paint, from_turns=["s1-2"])
    ana.set_preference("t-ana", paint.id, likes=True, at=T0, from_turns=["s1-2"])
    ana.set_preference("t-ana", paint.id, likes=False, at=T0 + timedelta(days=30),
                       reason="switched to oils", from_turns=["s2-0"])
    now = ana.preferences("t-ana")
    assert [(e.type, e.target) for e in now] == [(EdgeType.DISLIKES, paint.id)]
    before = ana.preferences("t-ana", as_of=T0 + timedelta(days=5))
    assert [e.type for e in before] == [EdgeType.PREFERS]
    history = ana.preferences("t-ana", history=True)
    assert [e.type for e in history] == [EdgeType.PREFERS, EdgeType.DISLIKES]
    closed = history[0]
    assert closed.valid_to == T0 + timedelta(days=30) and closed.expired_at is not None


def test_forgetting_a_turn_removes_what_was_derived_from_it(ana: MemoryGraph) -> None:
    pixel = Entity(id="e-pixel", user_id="t-ana", name="Pixel", kind="pet",
                   summary="beagle puppy")
    ana.upsert_entity("t-ana", pixel, from_turns=["s1-0"])
    ana.set_preference("t-ana", pixel.id, likes=True, at=T0, from_turns=["s1-0"])
    ana.forget_turn("t-ana", "s1-0")
    assert ana.store.get_nodes("t-ana", ["s1-0", "e-pixel"]) == []
    assert ana.preferences("t-ana", history=True) == []
    assert all(h.node.id != "s1-0" for h in
               ana.store.keyword_search("t-ana", NodeLabel.TURN, "adopted beagle", 10))
    vector = HashingEmbedder().embed_query("I adopted a beagle puppy called Pixel")
    assert all(h.node.id not in ("s1-0", "e-pixel") for label in (NodeLabel.TURN, NodeLabel.ENTITY)
               for h in ana.store.vector_search("t-ana", label, vector, 10))
    assert len(ana.session_turns("t-ana", "s1")) == 2


def test_forgetting_a_session_removes_its_turns(ana: MemoryGraph) -> None:
    ana.forget_session("t-ana", "s1")
    remaining = {n.id for n in ana.store.find_nodes("t-ana", NodeLabel.TURN)}
    assert remaining == {"s2-0", "s2-1"}
    assert ana.store.get_nodes("t-ana", ["s1"]) == []


SECRET = "4417"


def _plant_a_secret(ana: MemoryGraph) -> None:
    """A secret told in s3, echoed by the reply, and everything derived from it: a fact only
    from it, a fact restated in another turn, a topic and a routine blending both turns, the
    session's summary, the core profile, an entity summary and a preference."""
    t3 = T0 + timedelta(days=60)
    ana.add_turns("t-ana", [
        TurnInput(text=f"My bank PIN is {SECRET}, I walk Pixel at 7", at=t3, session_id="s3",
                  seq=0, speaker="Ana", turn_id="s3-0"),
        TurnInput(text=f"Noted: your PIN is {SECRET}.", at=t3 + timedelta(seconds=5),
                  session_id="s3", seq=1, role="assistant", speaker="Persona",
                  turn_id="s3-1"),
        TurnInput(text="I walk Pixel at 7 every morning", at=t3 + timedelta(minutes=1),
                  session_id="s3", seq=2, speaker="Ana", turn_id="s3-2"),
    ])
    pin = Fact(id="f-pin", user_id="t-ana", statement=f"Ana's bank PIN is {SECRET}", at=t3)
    walk = Fact(id="f-walk", user_id="t-ana", statement="Ana walks Pixel at 7", at=t3)
    topic = Event(id="ev-s3", user_id="t-ana", occurred_at=t3,
                  summary=f"Ana shared her PIN {SECRET} and her walks with Pixel")
    habit = Routine(id="r-walk", user_id="t-ana", description=f"Walks Pixel after PIN {SECRET}")
    bank = Entity(id="e-bank", user_id="t-ana", name="bank", kind="place",
                  summary=f"where PIN {SECRET} is used")
    session = ana.store.get_nodes("t-ana", ["s3"])[0]
    user = ana.user("t-ana")
    edges = [Edge(type=EdgeType.FROM_TURN, user_id="t-ana", source=source, target=turn)
             for source, turns in (("f-pin", ["s3-0"]), ("f-walk", ["s3-0", "s3-2"]),
                                   ("ev-s3", ["s3-0", "s3-2"]), ("r-walk", ["s3-0", "s3-2"]),
                                   ("e-bank", ["s3-0", "s3-2"]))
             for turn in turns]
    ana.commit("t-ana", WriteBatch(
        nodes=[pin, walk, topic, habit, bank,
               session.model_copy(update={"summary": f"PIN {SECRET} and walks"}),
               user.model_copy(update={"profile": f"Ana, whose PIN is {SECRET}"})],
        edges=edges))
    ana.set_preference("t-ana", "e-bank", likes=True, at=t3, reason=f"PIN {SECRET}",
                       from_turns=["s3-0"])


def _texts(ana: MemoryGraph) -> str:
    store = ana.store
    nodes = [n.model_dump_json() for label in NodeLabel for n in store.find_nodes("t-ana", label)]
    edges = [e.model_dump_json() for e in store.edges("t-ana")]
    return " ".join(nodes + edges)


def test_forgetting_a_turn_removes_its_text_from_everywhere_it_reached(ana: MemoryGraph
                                                                       ) -> None:
    _plant_a_secret(ana)
    assert SECRET in _texts(ana)
    report = ana.forget_turn("t-ana", "s3-0")
    assert SECRET not in _texts(ana)
    for label in (NodeLabel.TURN, NodeLabel.FACT, NodeLabel.EVENT, NodeLabel.ROUTINE,
                  NodeLabel.ENTITY):
        assert all(SECRET not in h.node.search_text()
                   for h in ana.store.keyword_search("t-ana", label, f"PIN {SECRET}", 10))
    assert {n.id for n in ana.store.get_nodes("t-ana", ["s3-0", "s3-1", "s3-2", "f-pin",
                                                        "f-walk", "ev-s3", "r-walk",
                                                        "e-bank"])} == {"s3-2", "f-walk",
                                                                        "e-bank"}
    assert ana.source_turns("t-ana", "f-walk") == ["s3-2"]
    assert dict(report.counts) == {"turns": 1, "replies": 1, "facts": 1, "events": 1,
                                   "routines": 1, "preferences": 1, "entity summaries": 1,
                                   "session summaries": 1, "profile": 1}


CODE = "ZEBRA-7391"
ILLNESS = "diagnosed with bipolar disorder last spring"


def _told_and_quoted(ana: MemoryGraph) -> None:
    """s5: Ana tells a locker code and an illness; s6, a month later: she asks for the code
    and the reply quotes it, and a reply repeats the illness in other words around a run
    of six of hers; another turn shares only a year, a time and common words."""
    t5, t6 = T0 + timedelta(days=100), T0 + timedelta(days=130)
    ana.add_turns("t-ana", [
        TurnInput(text=f"My gym locker code is {CODE}. I was {ILLNESS}, in 2019 at 10:00.",
                  at=t5, session_id="s5", turn_id="s5-0", speaker="Ana"),
        TurnInput(text="Noted.", at=t5 + timedelta(seconds=5), session_id="s5", seq=1,
                  role="assistant", turn_id="s5-1"),
        TurnInput(text="What is my gym locker code?", at=t6, session_id="s6",
                  turn_id="s6-0", speaker="Ana"),
        TurnInput(text=f"Your code is {CODE.lower()} (ending 7391).",
                  at=t6 + timedelta(seconds=5), session_id="s6", seq=1, role="assistant",
                  turn_id="s6-1"),
        TurnInput(text=f"How are you? You told me you were {ILLNESS}.",
                  at=t6 + timedelta(minutes=1), session_id="s6", seq=2, role="assistant",
                  turn_id="s6-2"),
        TurnInput(text="In 2019 at 10:00 I was at the gym, was I?", at=t6 + timedelta(minutes=2),
                  session_id="s6", seq=3, speaker="Ana", turn_id="s6-3"),
    ])


def test_forgetting_a_turn_scrubs_later_texts_that_quote_it(ana: MemoryGraph) -> None:
    _told_and_quoted(ana)
    report = ana.forget_turn("t-ana", "s5-0")
    texts = {t.id: t.text for t in ana.turns("t-ana") if t.session_id == "s6"}
    assert texts == {"s6-0": "What is my gym locker code?",
                     "s6-1": "Your code is [forgotten] (ending [forgotten]).",
                     "s6-2": "How are you? You told me you were [forgotten].",
                     "s6-3": "In 2019 at 10:00 I was at the gym, was I?"}
    for query in (CODE, "7391", "bipolar disorder"):
        assert ana.store.keyword_search("t-ana", NodeLabel.TURN, query, 10) == []
    vector = HashingEmbedder().embed_query(texts["s6-1"])
    scrubbed = ana.store.get_nodes("t-ana", ["s6-1"])[0]
    assert isinstance(scrubbed, Turn) and scrubbed.embedding is not None
    assert np.allclose(scrubbed.embedding, vector, atol=1e-6)
    assert dict(report.counts) == {"turns": 1, "replies": 1, "scrubbed replies": 2}
    assert {"s5-0", "s5-1"} <= report.traces.ids
    assert report.traces.found_in(f'{{"reply": "{CODE}"}}')
    assert not report.traces.found_in("In 2019 at 10:00")


def test_forgetting_a_turn_removes_later_memories_that_copied_it(ana: MemoryGraph) -> None:
    """s5's consolidation put the code in the core profile; s6's consolidation, which read
    that profile, copied it into a topic, a fact, a routine, an entity's name and another's
    summary, its session summary and a preference's reason, all learned from s6's turns
    (so provenance alone leaves them)."""
    _told_and_quoted(ana)
    t6 = T0 + timedelta(days=130)
    user = ana.user("t-ana")
    ana.commit("t-ana", WriteBatch(nodes=[user.model_copy(update={
        "profile": f"Ana goes to the gym (locker {CODE})."})]))
    s6 = ana.store.get_nodes("t-ana", ["s6"])[0]
    derived = [
        Event(id="ev-s6", user_id="t-ana", occurred_at=t6, summary=f"Gym visit, locker {CODE}"),
        Fact(id="f-locker", user_id="t-ana", statement=f"Ana's locker code is {CODE}", at=t6),
        Routine(id="r-gym", user_id="t-ana", description=f"Opens locker {CODE} at the gym"),
        Entity(id="e-locker", user_id="t-ana", name=f"locker {CODE}", kind="object"),
        Entity(id="e-gym", user_id="t-ana", name="gym", kind="place",
               summary=f"Ana's gym, locker {CODE}"),
        Fact(id="f-swim", user_id="t-ana", statement="Ana swims at the gym", at=t6)]
    ana.commit("t-ana", WriteBatch(
        nodes=[*derived, s6.model_copy(update={"summary": f"Ana asked for locker {CODE}"})],
        edges=[Edge(type=EdgeType.FROM_TURN, user_id="t-ana", source=node.id, target="s6-0")
               for node in derived]))
    ana.set_preference("t-ana", "e-gym", likes=True, at=t6, reason=f"locker {CODE} is near",
                       from_turns=["s6-0"])
    report = ana.forget_turn("t-ana", "s5-0")
    assert CODE.lower() not in _texts(ana).lower()
    kept = {n.id: n for n in ana.store.get_nodes("t-ana", [n.id for n in derived])}
    assert set(kept) == {"e-gym", "f-swim"}
    assert isinstance(kept["e-gym"], Entity) and kept["e-gym"].summary == ""
    assert ana.user("t-ana").profile == ""
    assert ana.preferences("t-ana", history=True) == []
    assert ana.source_turns("t-ana", "f-swim") == ["s6-0"]
    assert dict(report.counts) == {
        "turns": 1, "replies": 1, "scrubbed replies": 2, "events": 1, "facts": 1,
        "routines": 1, "entities": 1, "entity summaries": 1, "session summaries": 1,
        "profile": 1, "preferences": 1}


def test_a_turn_stored_before_its_reply_is_unanswered_until_the_reply(ana: MemoryGraph
                                                                       ) -> None:
    t4 = T0 + timedelta(days=90)
    ana.add_turns("t-ana", [TurnInput(text="Are you there?", at=t4, session_id="s4",
                                      turn_id="s4-0", answered=False, memory_work="pending")])
    assert [t.id for t in ana.unanswered_turns("t-ana")] == ["s4-0"]
    assert [t.id for t in ana.turns_with_work("t-ana", ("pending", "failed"))] == ["s4-0"]
    ana.add_turns("t-ana", [TurnInput(text="Yes.", at=t4 + timedelta(seconds=1),
                                      session_id="s4", role="assistant", seq=1)],
                  answering="s4-0")
    assert ana.unanswered_turns("t-ana") == []
    assert [t.text for t in ana.session_turns("t-ana", "s4")] == ["Are you there?", "Yes."]


def test_forgetting_an_id_that_is_not_the_users_turn_or_session_changes_nothing(
        ana: MemoryGraph) -> None:
    before = _snapshot(ana, "t-ana")
    for turn_id in ("t-ana", "s1", "doesnotexist"):
        with pytest.raises(UnknownMemoryError):
            ana.forget_turn("t-ana", turn_id)
    for session_id in ("s1-0", "t-ana"):
        with pytest.raises(UnknownMemoryError):
            ana.forget_session("t-ana", session_id)
    assert _snapshot(ana, "t-ana") == before
    assert ana.user("t-ana").name == "Ana"


def test_a_memory_kept_on_request_is_searchable_replaceable_and_forgettable(
        ana: MemoryGraph) -> None:
    """``remember`` (the LangGraph store's ``put``) and ``forget_memory`` (its ``delete``)."""
    ref = StoreItemRef(namespace=["notes"], key="k1", value_json='{"content": "x"}')
    first = ana.remember("t-ana", "Ana is allergic to hazelnuts", memory_id="m-1",
                         at=T0, stored_as=ref)
    found = ana.store.get_nodes("t-ana", ["m-1"])
    assert [n.model_dump(exclude={"embedding"}) for n in found] == \
        [first.model_dump(exclude={"embedding"})]
    assert isinstance(found[0], Fact) and found[0].stored_as == ref
    assert [h.node.id for h in ana.store.keyword_search("t-ana", NodeLabel.FACT,
                                                        "hazelnuts", 5)] == ["m-1"]
    again = ana.remember("t-ana", "Ana is allergic to walnuts", memory_id="m-1", at=T0)
    assert again.created_at == first.created_at
    assert ana.store.keyword_search("t-ana", NodeLabel.FACT, "hazelnuts", 5) == []
    with pytest.raises(InvalidInputError):
        ana.remember("t-ana", "", memory_id="m-2")
    with pytest.raises(InvalidInputError):
        ana.remember("t-ana", "replaces a turn", memory_id="s1-0")
    report = ana.forget_memory("t-ana", "m-1")
    assert report.counts["facts"] == 1
    assert ana.store.get_nodes("t-ana", ["m-1"]) == []
    assert ana.store.keyword_search("t-ana", NodeLabel.FACT, "walnuts", 5) == []
    with pytest.raises(UnknownMemoryError):
        ana.forget_memory("t-ana", "m-1")
    assert ana.forget_memory("t-ana", "s1-0").counts["turns"] == 1


@pytest.mark.parametrize("bad", [
    TurnInput(text="", at=T0, session_id="s9"),
    TurnInput(text="   ", at=T0, session_id="s9"),
    TurnInput(text="x" * 20_001, at=T0, session_id="s9"),
    TurnInput(text="fine", at="not a date", session_id="s9"),
    TurnInput(text="fine", at="1066-10-14 09:00", session_id="s9"),
])
def test_bad_turns_are_rejected_and_nothing_changes(ana: MemoryGraph, bad: TurnInput) -> None:
    before = _snapshot(ana, "t-ana")
    good = TurnInput(text="a good turn in the same batch", at=T0, session_id="s9")
    with pytest.raises(InvalidInputError):
        ana.add_turns("t-ana", [good, bad])
    assert _snapshot(ana, "t-ana") == before
    if bad.at == "not a date":
        with pytest.raises(InvalidTimestampError):
            ana.add_turns("t-ana", [bad])


def test_edges_to_missing_or_foreign_nodes_are_rejected(ana: MemoryGraph) -> None:
    before = _snapshot(ana, "t-ana")
    dangling = Edge(type=EdgeType.RELATES, user_id="t-ana", source="s1-0", target="nowhere")
    with pytest.raises(InvalidInputError):
        ana.store.commit("t-ana", WriteBatch(edges=[dangling]))
    foreign = Edge(type=EdgeType.RELATES, user_id="t-other", source="s1-0", target="s1-1")
    with pytest.raises(InvalidInputError):
        ana.store.commit("t-ana", WriteBatch(edges=[foreign]))
    assert _snapshot(ana, "t-ana") == before


def test_hybrid_search_uses_neighbourhood_time_window_and_exclusions(ana: MemoryGraph) -> None:
    search = HybridSearch(ana, recipe("hybrid_graph", rerank=False, neighbourhood_seeds=1))
    hits = search.search("t-ana", "which shoe does Pixel chew in the flat", k=5)
    assert hits[0].node.id == "s1-1"
    assert hits[0].date == T0 + timedelta(minutes=1)
    assert hits[0].provenance == ["s1-1"] and hits[0].session_id == "s1"
    neighbours = {h.node.id for h in hits if "neighbourhood" in h.signals}
    assert neighbours == {"s1-0", "s1-2"}, "adjacent turns join through NEXT edges"
    window = TimeWindow(start=T0 + timedelta(days=10))
    assert all(h.node.id.startswith("s2") for h in
               search.search("t-ana", "Pixel", k=5, window=window))
    excluded = search.search("t-ana", "which shoe does Pixel chew in the flat", k=5,
                             exclude=["s1-1"])
    assert "s1-1" not in {h.node.id for h in excluded}


def test_memory_work_is_claimed_by_one_owner_at_a_time(ana: MemoryGraph) -> None:
    lease = timedelta(minutes=10)
    assert ana.claim_work("t-ana", "s1-0", "p1", lease, T0)
    assert ana.claim_work("t-ana", "s1-0", "p1", lease, T0), "its owner keeps it"
    assert not ana.claim_work("t-ana", "s1-0", "p2", lease, T0), "live elsewhere"
    assert ana.claim_work("t-ana", "s1-0", "p2", lease, T0 + 2 * lease), "stale: taken over"
    turn = ana.store.get_nodes("t-ana", ["s1-0"])[0]
    # A compare-and-set: a claim read before another owner took it is not written.
    assert not ana.store.claim_node("t-ana", turn.model_copy(update={"work_claim": "p3"}),
                                    "p1")
    assert ana.store.get_nodes("t-ana", ["s1-0"])[0].work_claim == "p2"  # type: ignore[attr-defined]
    ana.mark_turn_work("t-ana", "s1-0", "failed", "a broken output")
    assert ana.claim_work("t-ana", "s1-0", "p3", lease, T0), "released when marked"
    ana.mark_turn_work("t-ana", "s1-0", "done")
    assert not ana.claim_work("t-ana", "s1-0", "p1", lease, T0), "done work is not redone"
    assert ana.claim_work("t-ana", "s1", "p1", lease, T0), "a session is claimed too"
    assert not ana.claim_work("t-ana", "no-such-turn", "p1", lease, T0)
    hits = ana.store.keyword_search("t-ana", NodeLabel.TURN, "beagle puppy", 3)
    assert "s1-0" in {h.node.id for h in hits}, "a claimed turn stays searchable"
    assert ana.store.get_nodes("t-ana", ["s1-0"])[0].embedding is not None  # type: ignore[attr-defined]


class _ForgetsAfterRead:
    """A store through which the first read of a node is followed by the user forgetting
    it: a worker that read a turn, and the user's forget landing before its write."""

    def __init__(self, memory: MemoryGraph) -> None:
        self._memory = memory
        self._fired = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._memory.store, name)

    def get_nodes(self, user_id: str, ids: Sequence[str], embeddings: bool = True
                  ) -> list[Node]:
        nodes = self._memory.store.get_nodes(user_id, ids, embeddings)
        if not self._fired:
            self._fired = True
            self._memory.forget_turn(user_id, ids[0])
        return nodes


def test_work_settled_after_its_turn_was_forgotten_does_not_bring_it_back(
        ana: MemoryGraph) -> None:
    lease = timedelta(minutes=10)
    for settle in ("done", "failed", "release"):
        turn_id = {"done": "s1-0", "failed": "s1-1", "release": "s2-0"}[settle]
        assert ana.claim_work("t-ana", turn_id, "p1", lease, T0)
        racing = MemoryGraph(_ForgetsAfterRead(ana), ana.embedder)  # type: ignore[arg-type]
        if settle == "release":
            racing.release_work("t-ana", turn_id, "p1")
        else:
            racing.mark_turn_work("t-ana", turn_id, settle, "an error", "p1")  # type: ignore[arg-type]
        assert ana.store.get_nodes("t-ana", [turn_id]) == [], settle
        assert ana.turn_work_state("t-ana", turn_id) is None


def test_a_claim_taken_over_is_settled_only_by_its_new_owner(ana: MemoryGraph) -> None:
    lease = timedelta(minutes=10)
    assert ana.claim_work("t-ana", "s1-0", "p1", lease, T0)
    assert ana.claim_work("t-ana", "s1-0", "p2", lease, T0 + 2 * lease)  # p1's lease ran out
    ana.mark_turn_work("t-ana", "s1-0", "done", owner="p1")  # p1 finishes late
    turn = ana.store.get_nodes("t-ana", ["s1-0"])[0]
    assert turn.work_claim == "p2" and turn.memory_work != "done"  # type: ignore[attr-defined]
    ana.mark_turn_work("t-ana", "s1-0", "done", owner="p2")
    assert ana.turn_work_state("t-ana", "s1-0") == "done"


def test_of_owners_claiming_at_once_exactly_one_gets_the_work(ana: MemoryGraph) -> None:
    won: list[str] = []
    start = threading.Barrier(6)

    def claim(owner: str) -> None:
        start.wait()
        if ana.claim_work("t-ana", "s2-0", owner, timedelta(minutes=10), T0):
            won.append(owner)

    threads = [threading.Thread(target=claim, args=(f"p{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert ana.store.get_nodes("t-ana", ["s2-0"])[0].work_claim == won[0]  # type: ignore[attr-defined]


def _mixed_batch(memory: MemoryGraph, user_id: str) -> WriteBatch:
    """Nodes of three labels and edges of two types, some between nodes of the batch."""
    vector = memory.embedder.embed_query("Pixel the beagle")
    entity = Entity(id="e-pixel", user_id=user_id, name="Pixel", kind="pet",
                    embedding=vector)
    fact = Fact(id="f-pixel", user_id=user_id, statement="Ana's dog is called Pixel",
                at=T0, embedding=vector)
    session = Session(id="s9", user_id=user_id, started_at=T0)
    return WriteBatch(nodes=[entity, fact, session], edges=[
        Edge(type=EdgeType.INVOLVES, source="f-pixel", target="e-pixel", user_id=user_id),
        Edge(type=EdgeType.FROM_TURN, source="f-pixel", target="s1-0", user_id=user_id)])


def test_a_mixed_batch_commits_whole(ana: MemoryGraph) -> None:
    ana.store.commit("t-ana", _mixed_batch(ana, "t-ana"))
    found = {n.id for n in ana.store.get_nodes("t-ana", ["e-pixel", "f-pixel", "s9"])}
    assert found == {"e-pixel", "f-pixel", "s9"}
    out = {e.type for e in ana.store.edges("t-ana", ["f-pixel"], direction="out")}
    assert out == {EdgeType.INVOLVES, EdgeType.FROM_TURN}


@pytest.mark.parametrize("spoil", ["dangling edge", "wrong dimension", "another user"])
def test_a_batch_that_fails_anywhere_leaves_nothing(ana: MemoryGraph, spoil: str) -> None:
    before = _snapshot(ana, "t-ana")
    batch = _mixed_batch(ana, "t-ana")
    nodes, edges = list(batch.nodes), list(batch.edges)
    if spoil == "dangling edge":  # the last record of the batch is the bad one
        edges.append(Edge(type=EdgeType.NEXT, source="s9", target="nowhere",
                          user_id="t-ana"))
    elif spoil == "wrong dimension":
        nodes.append(Fact(id="f-bad", user_id="t-ana", statement="bad", at=T0,
                          embedding=[0.1, 0.2]))
    else:
        nodes.append(Session(id="s10", user_id="t-bob", started_at=T0))
    with pytest.raises(InvalidInputError):
        ana.store.commit("t-ana", WriteBatch(nodes=nodes, edges=edges,
                                             delete_node_ids=["s1-1"]))
    assert _snapshot(ana, "t-ana") == before


def test_a_batch_deletes_and_writes_together(ana: MemoryGraph) -> None:
    old_edges = [e.id for e in ana.store.edges("t-ana", ["s1-2"])]
    ana.store.commit("t-ana", WriteBatch(
        nodes=[Session(id="s9", user_id="t-ana", started_at=T0)],
        delete_node_ids=["s1-2"], delete_edge_ids=old_edges))
    assert [n.id for n in ana.store.get_nodes("t-ana", ["s1-2", "s9"])] == ["s9"]
    assert ana.store.edges("t-ana", ["s1-2"]) == []


def test_a_statement_failing_inside_the_database_rolls_the_batch_back(
        ana: MemoryGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Cypher backends send a batch as several statements: make the last one fail while
    the database runs it, after the nodes were written in the same transaction."""
    from memory_graph.backends import cypher

    if not isinstance(ana.store, cypher.CypherStore):
        pytest.skip("the embedded store validates everything before it writes its journal")
    before = _snapshot(ana, "t-ana")
    monkeypatch.setattr(cypher, "_upsert_edges", lambda edge_type: (
        f"UNWIND $rows AS row MATCH (a:{cypher.BASE} {{user_id: $uid, id: row.source}}) "
        f"SET a.broken = 1 / (size($rows) - size($rows))"))
    with pytest.raises(InvalidInputError):
        ana.store.commit("t-ana", _mixed_batch(ana, "t-ana"))
    assert _snapshot(ana, "t-ana") == before


def _consolidate(memory: MemoryGraph, session_id: str, day: datetime, routine: str) -> int:
    session = next(s for s in memory.store.find_nodes("t-ana", NodeLabel.SESSION)
                   if s.id == session_id)
    assert isinstance(session, Session)
    turn_ids = [t.id for t in memory.session_turns("t-ana", session_id)]
    event = Event(id=f"ev-{session_id}", user_id="t-ana", summary=f"talked on {day:%d %b}",
                  occurred_at=day, kind="topic")
    pixel = Entity(id="e-pixel", user_id="t-ana", name="Pixel", kind="pet")
    fact = Fact(id=f"f-{session_id}", user_id="t-ana", statement="Pixel is a beagle", at=day)
    return memory.record_consolidation("t-ana", SessionConsolidationWrite(
        session=session, turn_ids=turn_ids, ended_at=day, summary=f"summary {session_id}",
        events=[SessionEvent(event, turn_ids[:1], ["e-pixel"])],
        facts=[CitedFact(fact, turn_ids[1:2], ["e-pixel"])],
        routines=[Routine(id=f"r-{routine}", user_id="t-ana", description=routine,
                          updated_at=day)],
        entities=[pixel], profile=f"profile after {session_id}", keep_routines=1))


def test_a_consolidation_links_its_provenance_chains_events_and_prunes_routines(
        ana: MemoryGraph) -> None:
    assert _consolidate(ana, "s1", T0, "walks Pixel") == 1
    assert _consolidate(ana, "s2", T0 + timedelta(days=30), "paints in oils") == 1
    store = ana.store
    # the events form a chain in time
    [chained] = store.edges("t-ana", ["ev-s1"], [EdgeType.NEXT], "out")
    assert chained.target == "ev-s2"
    # provenance: the event to its turns, the fact to the turn that says it
    assert {e.target for e in store.edges("t-ana", ["ev-s1"], [EdgeType.FROM_TURN], "out")} \
        == {"s1-0"}
    assert {e.target for e in store.edges("t-ana", ["f-s2"], [EdgeType.FROM_TURN], "out")} \
        == {"s2-1"}
    # only the newest routine is kept; the summary and the profile are written
    assert [r.id for r in store.find_nodes("t-ana", NodeLabel.ROUTINE)] == ["r-paints in oils"]
    [s2] = store.get_nodes("t-ana", ["s2"])
    assert isinstance(s2, Session) and s2.summary == "summary s2"
    assert ana.user("t-ana").profile == "profile after s2"


def test_a_fact_and_a_routine_made_untrue_are_closed_in_valid_time(ana: MemoryGraph
                                                                  ) -> None:
    _consolidate(ana, "s1", T0, "walks Pixel")
    assert [r.id for r, _ in ana.similar_routines("t-ana", "walks Pixel", 3)] == \
        ["r-walks Pixel"]
    later = T0 + timedelta(days=30)
    ana.record_turn_memories("t-ana", TurnMemoryWrite(
        turn_id="s2-1", at=later, closed=["r-walks Pixel", "f-s1", "s2-0"]))
    closed = {n.id: n for n in ana.store.get_nodes("t-ana", ["r-walks Pixel", "f-s1"])}
    assert {i: getattr(n, "valid_to", None) for i, n in closed.items()} == \
        {"r-walks Pixel": later, "f-s1": later}
    assert ana.similar_routines("t-ana", "walks Pixel", 3) == []
    assert "f-s1" not in {f.id for f in ana.current_facts("t-ana")}
    [turn] = ana.store.get_nodes("t-ana", ["s2-0"])  # a turn is no memory to close
    assert isinstance(turn, Turn)


def test_memory_graph_reads_what_the_agent_needs(ana: MemoryGraph) -> None:
    """The reads the agent, the CLI and the evaluations make through ``MemoryGraph``."""
    assert ana.has_user("t-ana") and not ana.has_user("t-nobody")
    assert [t.id for t in ana.turns("t-ana")] == ["s1-0", "s1-1", "s1-2", "s2-0", "s2-1"]
    session = ana.session("t-ana", "s2")
    assert session is not None and session.started_at == T0 + timedelta(days=30)
    assert ana.session("t-ana", "s1-0") is None  # a turn is not a session
    assert sorted(n.id for n in ana.nodes("t-ana", NodeLabel.SESSION)) == ["s1", "s2"]
    _consolidate(ana, "s1", T0, "walks Pixel")
    assert ana.source_turns("t-ana", "f-s1") == ["s1-1"]
    assert [e.name for e in ana.entities("t-ana")] == ["Pixel"]
    [(pixel, score)] = ana.similar_entities("t-ana", "Pixel", 3)
    assert pixel.id == "e-pixel" and score > 0.5
    assert {e.type for e in ana.edges("t-ana", ["e-pixel"], direction="in")} == \
        {EdgeType.INVOLVES}
