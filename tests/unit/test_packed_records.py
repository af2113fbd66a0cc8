"""The embedded store's packed records give back exactly the models written, and a node
written again (a turn's memory work) keeps its rows in the search indexes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from memory_graph.backends.packed import Records, Strings
from memory_graph.backends.user_graph import UserGraph, node_record
from memory_graph.schema import (
    Edge,
    EdgeType,
    Entity,
    Fact,
    Image,
    Node,
    NodeLabel,
    PersonalitySnapshot,
    Session,
    StoreItemRef,
    Turn,
    User,
    node_from_record,
)

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def _nodes() -> list[Node]:
    return [
        User(id="ana", user_id="ana", name="A", profile="p"),
        Session(id="s1", user_id="ana", started_at=T0, work_claim="w", work_claim_until=T0),
        Turn(id="t1", user_id="ana", session_id="s1", text="plain", at=T0),
        Turn(id="t2", user_id="ana", session_id="s1", role="assistant", speaker="bot",
             text="with photo", at=T0, seq=3, image_captions=["a red kite"], answered=False,
             memory_work="failed", memory_error="boom", memory_attempts=2),
        Image(id="i1", user_id="ana", sha256="0" * 64, caption="kite", width=3, height=4),
        Entity(id="e1", user_id="ana", name="Kite", aliases=["k", "kk"]),
        Fact(id="f1", user_id="ana", statement="s", at=T0, valid_to=T0 + timedelta(days=1),
             stored_as=StoreItemRef(namespace=["n"], key="k", value_json="{}")),
        PersonalitySnapshot(id="p1", user_id="ana", at=T0, interactions=0, openness=1,
                            conscientiousness=2, extraversion=3, agreeableness=4,
                            neuroticism=5),
    ]


def test_every_label_and_edge_comes_back_as_written() -> None:
    records, strings = Records(), Strings()
    for node in _nodes():
        back = records.node(records.pack_node(node, strings))
        assert type(back) is type(node) and back.model_dump() == node.model_dump()
    edges = [Edge(type=EdgeType.NEXT, user_id="ana", source="t1", target="t2"),
             Edge(type=EdgeType.PREFERS, user_id="ana", source="ana", target="e1", key="k",
                  predicate="likes", fact="f", strength=0.5, reason="r",
                  source_turns=["t1", "t2"], valid_from=T0, valid_to=T0, expired_at=T0)]
    for edge in edges:
        back = records.edge_of(records.pack_edge(edge, strings), edge.source, edge.target, "ana")
        assert back.model_dump() == edge.model_dump() and back.id == edge.id


def test_what_a_reader_changes_is_not_what_is_held() -> None:
    graph = UserGraph("ana", None)
    turn = _nodes()[3]
    graph.apply({"kind": "nodes", "items": [node_record(turn)]})
    read = graph.stored("t2")
    assert isinstance(read, Turn)
    read.image_captions.append("changed")
    assert graph.value("t2", "image_captions") == ["a red kite"]
    assert graph.value("t2", "no_such_field") is None


def test_a_turn_written_again_keeps_its_search_rows() -> None:
    graph = UserGraph("ana", None)
    turn = Turn(id="t1", user_id="ana", session_id="s1", text="violin lesson", at=T0,
                embedding=[1.0, 0.0, 0.0])
    graph.apply({"kind": "nodes", "items": [node_record(turn)]})
    for state in ("pending", "done", "pending", "done"):  # its memory work, written again
        turn = turn.model_copy(update={"memory_work": state})
        graph.apply({"kind": "nodes", "items": [node_record(turn)]})
    vector, keyword = graph.vector[NodeLabel.TURN], graph.keyword[NodeLabel.TURN]
    assert len(vector._slots.ids) == 1 and len(keyword._slots.ids) == 1
    assert [d for d, _ in keyword.search("violin", 5)] == ["t1"]
    moved = turn.model_copy(update={"text": "cello lesson"})
    graph.apply({"kind": "nodes", "items": [node_record(moved)]})
    assert keyword.search("violin", 5) == [] and [d for d, _ in keyword.search("cello", 5)] == [
        "t1"]
    assert [d for d, _ in vector.search([1.0, 0.0, 0.0], 5)] == ["t1"]
    assert graph.value("t1", "memory_work") == "done"


def test_a_record_as_json_reads_back_as_the_model() -> None:
    """A compaction writes records from the packed form, never through the model."""
    records, strings = Records(), Strings()
    for node in _nodes():
        data = records.node_json(records.pack_node(node, strings))
        assert json.loads(json.dumps(data)) == data
        assert node_from_record(node.label, data) == node
    edge = Edge(type=EdgeType.PREFERS, user_id="ana", source="ana", target="e1", key="k",
                source_turns=["t1"], valid_from=T0)
    data = records.edge_json(records.pack_edge(edge, strings), "ana", "e1", "ana")
    assert Edge.model_validate(json.loads(json.dumps(data))) == edge
