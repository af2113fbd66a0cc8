"""Reads by label and by property come from the embedded store's indexes: they visit the
nodes they return (and a few more), never every node of the user."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from test_store_damage import T0

from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.backends.user_graph import UserGraph
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import Node, NodeLabel
from memory_graph.store import WriteBatch
from memory_graph.writes import PersonalityUpdate
from memory_work.personality import TRAITS, Personality

TURNS = 600


@pytest.fixture
def visits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the stored nodes a read looks at, in order."""
    seen: list[str] = []
    stored = UserGraph.stored

    def counting(graph: UserGraph, node_id: str) -> Node:
        seen.append(node_id)
        return stored(graph, node_id)

    monkeypatch.setattr(UserGraph, "stored", counting)
    return seen


@pytest.fixture(params=["memory only", "on disk"])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryGraph:
    store = NetworkxStore(tmp_path if request.param == "on disk" else None)
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("ana")
    memory.add_turns("ana", [TurnInput(text=f"note {i}", at=T0 + timedelta(minutes=i),
                                       session_id=f"s{i // 50}", turn_id=f"t{i}", seq=i)
                             for i in range(TURNS)])
    return memory


def test_reads_by_property_visit_only_what_they_find(memory: MemoryGraph,
                                                     visits: list[str]) -> None:
    turns = memory.turns("ana")
    worked = turns[-1].model_copy(update={"memory_work": "failed"})
    memory.store.commit("ana", WriteBatch(nodes=[worked]))
    visits.clear()
    failed = memory.store.find_nodes("ana", NodeLabel.TURN, where={"memory_work": "failed"})
    assert [n.id for n in failed] == [worked.id]
    assert len(visits) == 1
    visits.clear()
    in_session = memory.store.find_nodes("ana", NodeLabel.TURN, where={"session_id": "s3"})
    assert len(in_session) == 50 and len(visits) == 50
    visits.clear()
    assert memory.unanswered_turns("ana") == [] and visits == []


def test_reads_by_label_visit_only_that_label(memory: MemoryGraph, visits: list[str]) -> None:
    sessions = memory.sessions("ana")
    assert len(sessions) == TURNS // 50 and len(visits) == TURNS // 50


def test_a_changed_property_is_found_by_its_new_value_only(memory: MemoryGraph) -> None:
    store = memory.store
    turn = store.get_nodes("ana", ["t5"])[0]
    store.commit("ana", WriteBatch(nodes=[turn.model_copy(update={"session_id": "elsewhere"})]))
    assert [n.id for n in store.find_nodes("ana", NodeLabel.TURN, {"session_id": "elsewhere"})
            ] == ["t5"]
    assert "t5" not in {n.id for n in store.find_nodes("ana", NodeLabel.TURN,
                                                       {"session_id": "s0"})}
    store.commit("ana", WriteBatch(delete_node_ids=["t5"]))
    assert store.find_nodes("ana", NodeLabel.TURN, {"session_id": "elsewhere"}) == []


def test_the_latest_session_is_read_without_reading_the_others(memory: MemoryGraph,
                                                                visits: list[str]) -> None:
    latest = memory.latest_session("ana")
    assert latest is not None and latest.id == f"s{TURNS // 50 - 1}"
    assert visits == [latest.id]


def test_the_current_personality_is_read_without_reading_its_history(
        memory: MemoryGraph, visits: list[str]) -> None:
    current = Personality.neutral()
    for i in range(40):  # one turn heard from the past: its update still comes last in time
        at = T0 + timedelta(minutes=1 if i == 30 else i)
        current = current.updated(dict.fromkeys(TRAITS, 4.0), at)
        memory.record_personality("ana", PersonalityUpdate(current.snapshot("ana"), f"t{i}"))
    visits.clear()
    latest = Personality.latest(memory, "ana")
    assert latest.interactions == 40 and latest.at == current.at
    assert len(visits) == 1
    history = memory.personality_history("ana")
    assert [s.interactions for s in history] == list(range(1, 41))
    assert [s.at for s in history] == sorted(s.at for s in history)


def test_sessions_still_to_consolidate_are_read_without_the_others(
        memory: MemoryGraph, visits: list[str]) -> None:
    sessions = memory.sessions("ana")
    memory.store.commit("ana", WriteBatch(nodes=[
        s.model_copy(update={"summary": f"summary {s.id}"}) for s in sessions[:-2]]))
    visits.clear()
    due = memory.unconsolidated_sessions("ana")
    assert [s.id for s in due] == [s.id for s in sessions[-2:]]
    assert len(visits) == 2
