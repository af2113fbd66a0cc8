"""What the user's memory looks like to a reader: one line per memory, the raw turns (the
state of the memory work is ``memory_work.outstanding``). Imports neither LangGraph nor
LangChain nor a model, so the command line's read-only commands (``memories``, ``graph``)
start in about a second."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memory_graph.graph import MemoryGraph
from memory_graph.relative_dates import day_text
from memory_graph.schema import (
    Edge,
    EdgeType,
    Entity,
    Event,
    Fact,
    Image,
    Node,
    NodeLabel,
    Routine,
    Turn,
)
from memory_graph.timeparse import parse_timestamp

#: The derived memories a reader is shown (``memories``, the memory page).
MEMORY_LABELS = (NodeLabel.FACT, NodeLabel.EVENT, NodeLabel.ROUTINE, NodeLabel.IMAGE)


def describe_node(node: Node) -> str:
    if isinstance(node, Turn):
        who = "assistant" if node.role == "assistant" else (node.speaker or "user")
        return f"{who} said: {node.search_text().removeprefix(f'{node.speaker}: ')}"
    if isinstance(node, Fact):
        until = f" (no longer true from {day_text(node.valid_to)})" if node.valid_to else ""
        return {"remember": "asked to remember: ", "visual": ""}.get(node.kind, "") + \
            node.statement + until
    if isinstance(node, Event):
        return f"episode: {node.summary}"
    if isinstance(node, Routine):
        until = f" (no longer true from {day_text(node.valid_to)})" if node.valid_to else ""
        return f"{node.kind}: {node.description}{until}"
    if isinstance(node, Image):
        return f"shared photo: {node.caption or 'no description'}"
    if isinstance(node, Entity):
        return node.search_text()
    return node.label.value


def memory_rows(memory: MemoryGraph, user_id: str, as_of: str | datetime | None = None,
                labels: tuple[NodeLabel, ...] = MEMORY_LABELS) -> list[dict[str, Any]]:
    """Derived memories and preferences, oldest first; ``as_of`` keeps what was known then."""
    memory.user(user_id)
    moment = parse_timestamp(as_of) if as_of is not None else None
    rows: list[dict[str, Any]] = []
    for label in labels:
        for node in memory.nodes(user_id, label):
            when = node.event_time()
            if moment is not None and when is not None and when > moment:
                continue
            rows.append(_row(memory, node, when))
    preferences = memory.preferences(user_id, as_of=moment)
    names = memory.preference_names(user_id, preferences)
    rows += [_preference_row(edge, names[edge.target]) for edge in preferences]
    return sorted(rows, key=lambda r: (r["date"] or "", r["kind"]))


def turn_rows(memory: MemoryGraph, user_id: str) -> list[dict[str, Any]]:
    """The user's raw turns, oldest first, as ``personavlm memories --json`` lists them
    (the ids are what ``forget --turn`` and ``forget --session`` take)."""
    return [{"id": t.id, "session_id": t.session_id, "at": t.at.isoformat(),
             "role": t.role, "text": t.text} for t in memory.turns(user_id)]


def _row(memory: MemoryGraph, node: Node, when: datetime | None) -> dict[str, Any]:
    """A memory as ``memories --json`` lists it (fields in docs/agent.md): ``date`` is
    when it happened or began to hold (``valid_from``), ``valid_to`` when it stopped (None
    while it holds), ``source_turns`` the turns it was learned from."""
    kind = node.kind if isinstance(node, Fact) else node.label.value.lower()
    ends = node.valid_to if isinstance(node, Fact | Routine) else None
    moment = when.isoformat() if when else None
    return {"id": node.id, "kind": kind, "date": moment, "text": describe_node(node),
            "valid_from": moment, "valid_to": ends.isoformat() if ends else None,
            "source_turns": memory.source_turns(node.user_id, node.id)}


def _preference_row(edge: Edge, name: str) -> dict[str, Any]:
    verb = "likes" if edge.type is EdgeType.PREFERS else "dislikes"
    until = f" (until {edge.valid_to.date()})" if edge.valid_to else ""
    begins = edge.valid_from.isoformat() if edge.valid_from else None
    return {"id": edge.id, "kind": "preference", "date": begins,
            "text": f"{verb} {name}{until}" + (f": {edge.reason}" if edge.reason else ""),
            "valid_from": begins,
            "valid_to": edge.valid_to.isoformat() if edge.valid_to else None,
            "source_turns": list(edge.source_turns)}
