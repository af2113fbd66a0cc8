"""What forgetting turns removes: a plan computed from the store, committed as one batch.

Forgetting a user turn removes its text from everywhere it reached:

- the turn, the assistant reply of the same exchange (the assistant turn right after it in
  the session) and the photos shared in it;
- every derived memory learned only from them (a fact restated in a turn that stays, or an
  entity named in one, keeps that other source and loses the forgotten one);
- every derived text that blended them with other turns and cannot be rebuilt without a
  model: a session's topics (events), its routines, its summary, the core profile written
  after it, an entity's summary, and preferences whose reason came from them.

Embeddings and index entries go with their nodes (the store removes them). The plan only
reads; ``MemoryGraph`` commits it as one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from memory_graph.errors import UnknownMemoryError
from memory_graph.schema import (
    PREFERENCE_EDGES,
    EdgeType,
    Entity,
    Node,
    NodeLabel,
    Session,
    Turn,
    User,
)
from memory_graph.store import GraphStore, WriteBatch

#: Derived memories that blend several turns into one text: removed when any source goes.
BLENDED = frozenset({NodeLabel.EVENT, NodeLabel.ROUTINE})


@dataclass
class ForgetReport:
    """What a forget removed, by kind (``turns``, ``replies``, ``facts``, ``events``,
    ``routines``, ``entities``, ``images``, ``personality``, ``preferences``, and the
    derived texts cleared: ``session summaries``, ``entity summaries``, ``profile``)."""

    counts: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        removed = [f"{n} {kind}" for kind, n in sorted(self.counts.items()) if n]
        return ", ".join(removed) or "nothing"


#: The ``ForgetReport`` count each kind of derived memory is reported under.
KIND_OF_LABEL = {NodeLabel.FACT: "facts", NodeLabel.EVENT: "events",
                 NodeLabel.ROUTINE: "routines", NodeLabel.ENTITY: "entities",
                 NodeLabel.IMAGE: "images", NodeLabel.PERSONALITY: "personality"}


def user_turn(store: GraphStore, user_id: str, turn_id: str) -> Turn:
    """The user's turn ``turn_id``; ``UnknownMemoryError`` when it is anything else."""
    found = store.get_nodes(user_id, [turn_id], embeddings=False)
    if not found or not isinstance(found[0], Turn):
        raise UnknownMemoryError(user_id, "turn", turn_id)
    return found[0]


def user_session(store: GraphStore, user_id: str, session_id: str) -> Session:
    found = store.get_nodes(user_id, [session_id], embeddings=False)
    if not found or not isinstance(found[0], Session):
        raise UnknownMemoryError(user_id, "session", session_id)
    return found[0]


def _session_turns(store: GraphStore, user_id: str, session_id: str) -> list[Turn]:
    members = store.edges(user_id, [session_id], [EdgeType.IN_SESSION], "in")
    turns = store.get_nodes(user_id, [e.source for e in members], embeddings=False)
    return sorted((t for t in turns if isinstance(t, Turn)), key=lambda t: (t.at, t.seq))


def with_replies(store: GraphStore, user_id: str, turns: Sequence[Turn]) -> list[Turn]:
    """``turns`` and, for each user turn, the assistant reply that follows it."""
    chosen = {t.id: t for t in turns}
    for session_id in {t.session_id for t in turns}:
        ordered = _session_turns(store, user_id, session_id)
        for before, after in pairwise(ordered):
            if before.id in chosen and before.role == "user" and after.role == "assistant":
                chosen.setdefault(after.id, after)
    return list(chosen.values())


def plan_forget(store: GraphStore, user_id: str, turns: Sequence[Turn],
                extra_node_ids: Sequence[str] = ()) -> tuple[WriteBatch, ForgetReport]:
    report = ForgetReport()
    doomed_turns = {t.id for t in turns}
    report.counts["turns"] = sum(t.role == "user" for t in turns)
    report.counts["replies"] = sum(t.role == "assistant" for t in turns)
    doomed: set[str] = set(doomed_turns) | set(extra_node_ids)
    dropped_edges: set[str] = set()
    for edge in store.edges(user_id, sorted(doomed_turns), [EdgeType.HAS_IMAGE], "out"):
        doomed.add(edge.target)
    sources: dict[str, set[str]] = {}
    provenance = store.edges(user_id, sorted(doomed_turns), [EdgeType.FROM_TURN], "in")
    derived_ids = sorted({e.source for e in provenance})
    for edge in store.edges(user_id, derived_ids, [EdgeType.FROM_TURN], "out"):
        sources.setdefault(edge.source, set()).add(edge.target)
    rewritten: list[Node] = []
    for node in store.get_nodes(user_id, derived_ids, embeddings=True):
        only_forgotten = sources.get(node.id, set()) <= doomed_turns
        if only_forgotten or node.label in BLENDED:
            doomed.add(node.id)
        else:
            dropped_edges.update(e.id for e in provenance if e.source == node.id)
            if isinstance(node, Entity) and node.summary:
                rewritten.append(node.model_copy(update={"summary": "", "embedding": None}))
                report.counts["entity summaries"] += 1
    for node in store.get_nodes(user_id, sorted(doomed - doomed_turns), embeddings=False):
        if node.label in KIND_OF_LABEL:
            report.counts[KIND_OF_LABEL[node.label]] += 1
    for edge in store.edges(user_id, [user_id], None, "out"):
        if edge.type in PREFERENCE_EDGES and doomed_turns.intersection(edge.source_turns):
            dropped_edges.add(edge.id)
            report.counts["preferences"] += 1
    rewritten += _cleared_summaries(store, user_id, turns, doomed, report)
    batch = WriteBatch(nodes=rewritten, delete_node_ids=sorted(doomed),
                       delete_edge_ids=sorted(dropped_edges))
    return batch, report


def _cleared_summaries(store: GraphStore, user_id: str, turns: Sequence[Turn],
                       doomed: set[str], report: ForgetReport) -> list[Node]:
    """The consolidated sessions of ``turns`` lose their summary; the core profile, written
    from consolidated sessions, is cleared when one of them is touched."""
    cleared: list[Node] = []
    session_ids = sorted({t.session_id for t in turns} - doomed)
    for session in store.get_nodes(user_id, session_ids, embeddings=False):
        if isinstance(session, Session) and session.summary:
            cleared.append(session.model_copy(update={"summary": ""}))
            report.counts["session summaries"] += 1
    consolidated = bool(cleared) or any(
        isinstance(s, Session) and s.summary for s in
        store.get_nodes(user_id, sorted(doomed & {t.session_id for t in turns}),
                        embeddings=False))
    users = store.get_nodes(user_id, [user_id], embeddings=False)
    if consolidated and users and isinstance(users[0], User) and users[0].profile:
        cleared.append(users[0].model_copy(update={"profile": ""}))
        report.counts["profile"] += 1
    return cleared
