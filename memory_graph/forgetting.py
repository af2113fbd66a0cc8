"""What forgetting turns removes: a plan computed from the store, committed as one batch.

Forgetting a user turn removes its text from everywhere it reached:

- the turn, the assistant reply of the same exchange (the assistant turn right after it in
  the session) and the photos shared in it;
- every derived memory learned only from them (a fact restated in a turn that stays, or an
  entity named in one, keeps that other source and loses the forgotten one);
- every derived text that blended them with other turns and cannot be rebuilt without a
  model: a session's topics (events), its routines, its summary, the core profile written
  after it, an entity's summary, and preferences whose reason came from them;
- the remaining texts that quote them (``memory_graph.quote_search``, which adds to the plan).

Embeddings and index entries go with their nodes (the store removes them). The plan only
reads; ``MemoryGraph`` commits it as one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from memory_graph.errors import UnknownMemoryError
from memory_graph.quotes import RUN_WORDS, Quotes, Traces
from memory_graph.schema import (
    PREFERENCE_EDGES,
    EdgeType,
    Entity,
    Fact,
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
    ``routines``, ``entities``, ``images``, ``personality``, ``preferences``, the derived
    texts cleared: ``session summaries``, ``entity summaries``, ``profile``, and the kept
    texts whose quotes were cut out: ``scrubbed turns``, ``scrubbed replies``, ``scrubbed
    captions``, ``scrubbed errors``), and its ``traces``: how to recognise a copy of what
    it removed made outside the store (a LangGraph thread's checkpoints)."""

    counts: Counter[str] = field(default_factory=Counter)
    traces: Traces = field(default_factory=Traces)

    def __str__(self) -> str:
        removed = [f"{n} {kind}" for kind, n in sorted(self.counts.items()) if n]
        return ", ".join(removed) or "nothing"


@dataclass
class ForgetPlan:
    """What a forget changes, built by ``plan_forget`` and ``memory_graph.quote_search``:
    nodes deleted, nodes rewritten (a text cleared or scrubbed), edges dropped, the quotes
    of the forgotten texts, and the texts cleared (for the report's traces)."""

    user_id: str
    quotes: Quotes
    doomed: set[str] = field(default_factory=set)
    rewritten: dict[str, Node] = field(default_factory=dict)
    dropped_edges: set[str] = field(default_factory=set)
    cleared: list[str] = field(default_factory=list)
    report: ForgetReport = field(default_factory=ForgetReport)

    def current(self, node: Node) -> Node | None:
        """``node`` as the plan leaves it: its rewritten version, or None when deleted."""
        if node.id in self.doomed:
            return None
        return self.rewritten.get(node.id, node)

    def rewrite(self, node: Node, kind: str, cleared: str = "") -> None:
        """Replace a node, counted under ``kind``; ``cleared`` is a text it no longer has."""
        self.rewritten[node.id] = node
        self.report.counts[kind] += 1
        if cleared:
            self.cleared.append(cleared)

    def remove(self, node: Node) -> None:
        """Delete a derived memory, counted under its kind."""
        self.rewritten.pop(node.id, None)
        self.doomed.add(node.id)
        self.report.counts[KIND_OF_LABEL[node.label]] += 1

    def batch(self, *, forgets: bool = True) -> WriteBatch:
        """The plan as one write; ``forgets``: a user asked for it (``WriteBatch.forgets``)."""
        return WriteBatch(nodes=list(self.rewritten.values()),
                          delete_node_ids=sorted(self.doomed),
                          delete_edge_ids=sorted(self.dropped_edges), forgets=forgets)

    def finish(self) -> ForgetReport:
        """The report, with the traces of everything the plan removed (a cleared text of
        fewer than six words is no trace: it recurs by chance)."""
        self.report.traces = Traces(
            ids=frozenset(self.doomed), quotes=self.quotes,
            texts=frozenset(t for t in self.cleared if len(t.split()) >= RUN_WORDS))
        return self.report


#: The ``ForgetReport`` count each kind of derived memory is reported under.
KIND_OF_LABEL = {NodeLabel.FACT: "facts", NodeLabel.EVENT: "events",
                 NodeLabel.ROUTINE: "routines", NodeLabel.ENTITY: "entities",
                 NodeLabel.IMAGE: "images", NodeLabel.PERSONALITY: "personality"}


def quotes_of(nodes: Iterable[Node]) -> Quotes:
    """The distinctive spans of forgotten memories (``memory_graph.quotes``): the user's
    words are their turns, their photos' captions and the memories they asked to keep;
    everything else (replies, derived memories) is a model's."""
    user_words: list[str] = []
    model_words: list[str] = []
    for node in nodes:
        if isinstance(node, Turn):
            said = user_words if node.role == "user" else model_words
            said += [node.text, *node.image_captions]
        elif isinstance(node, Fact) and node.kind == "remember":
            user_words.append(node.statement)
        else:
            model_words.append(node.search_text())
    return Quotes.of(user_words, model_words)


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
                extra_nodes: Sequence[Node] = (), quotes: Quotes | None = None) -> ForgetPlan:
    """The plan that forgets ``turns`` and ``extra_nodes`` (a session, a memory) with what
    was derived from them; ``quotes`` of the forgotten texts default to ``quotes_of``
    them (``memory_graph.quote_search`` uses them)."""
    plan = ForgetPlan(user_id, quotes if quotes is not None else
                      quotes_of([*turns, *extra_nodes]))
    report = plan.report
    doomed_turns = {t.id for t in turns}
    report.counts["turns"] = sum(t.role == "user" for t in turns)
    report.counts["replies"] = sum(t.role == "assistant" for t in turns)
    doomed = plan.doomed
    doomed.update(doomed_turns, (n.id for n in extra_nodes))
    for edge in store.edges(user_id, sorted(doomed_turns), [EdgeType.HAS_IMAGE], "out"):
        doomed.add(edge.target)
    sources: dict[str, set[str]] = {}
    provenance = store.edges(user_id, sorted(doomed_turns), [EdgeType.FROM_TURN], "in")
    derived_ids = sorted({e.source for e in provenance})
    for edge in store.edges(user_id, derived_ids, [EdgeType.FROM_TURN], "out"):
        sources.setdefault(edge.source, set()).add(edge.target)
    for node in store.get_nodes(user_id, derived_ids, embeddings=True):
        only_forgotten = sources.get(node.id, set()) <= doomed_turns
        if only_forgotten or node.label in BLENDED:
            doomed.add(node.id)
        else:
            plan.dropped_edges.update(e.id for e in provenance if e.source == node.id)
            if isinstance(node, Entity) and node.summary:
                plan.rewrite(node.model_copy(update={"summary": "", "embedding": None}),
                             "entity summaries", cleared=node.summary)
    for node in store.get_nodes(user_id, sorted(doomed - doomed_turns), embeddings=False):
        if node.label in KIND_OF_LABEL:
            report.counts[KIND_OF_LABEL[node.label]] += 1
    for edge in store.edges(user_id, [user_id], None, "out"):
        if edge.type in PREFERENCE_EDGES and doomed_turns.intersection(edge.source_turns):
            plan.dropped_edges.add(edge.id)
            report.counts["preferences"] += 1
    _clear_summaries(store, turns, plan)
    return plan


def _clear_summaries(store: GraphStore, turns: Sequence[Turn], plan: ForgetPlan) -> None:
    """The consolidated sessions of ``turns`` lose their summary; the core profile, written
    from consolidated sessions, is cleared when one of them is touched."""
    user_id, doomed = plan.user_id, plan.doomed
    touched = False
    session_ids = sorted({t.session_id for t in turns} - doomed)
    for session in store.get_nodes(user_id, session_ids, embeddings=False):
        if isinstance(session, Session) and session.summary:
            plan.rewrite(session.model_copy(update={"summary": ""}), "session summaries",
                         cleared=session.summary)
            touched = True
    consolidated = touched or any(
        isinstance(s, Session) and s.summary for s in
        store.get_nodes(user_id, sorted(doomed & {t.session_id for t in turns}),
                        embeddings=False))
    users = store.get_nodes(user_id, [user_id], embeddings=False)
    if consolidated and users and isinstance(users[0], User) and users[0].profile:
        plan.rewrite(users[0].model_copy(update={"profile": ""}), "profile",
                     cleared=users[0].profile)
