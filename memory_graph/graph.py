"""``MemoryGraph``: the per-user temporal memory operations, built once over any store.

Writers call it with validated input; it embeds search texts, keeps provenance
(``FROM_TURN``), closes contradicted preferences instead of deleting them, and forgets
whole dependency chains. Reads default to what is valid now; ``as_of`` and
``history=True`` are explicit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import ValidationError

from memory_graph.embedding import Embedder
from memory_graph.errors import InvalidInputError, UnknownMemoryError, UnknownUserError
from memory_graph.forgetting import (
    ForgetPlan,
    ForgetReport,
    plan_forget,
    user_session,
    user_turn,
    with_replies,
)
from memory_graph.quote_search import remove_quotes
from memory_graph.quotes import Quotes
from memory_graph.schema import (
    PREFERENCE_EDGES,
    Edge,
    EdgeType,
    Entity,
    Event,
    Fact,
    Image,
    MemoryWorkState,
    Node,
    NodeLabel,
    PersonalitySnapshot,
    Routine,
    SearchableNode,
    Session,
    StoreItemRef,
    Turn,
    User,
    stable_id,
    utc_now,
)
from memory_graph.store import Direction, GraphStore, Scalar, WriteBatch, check_user_id
from memory_graph.text import check_unicode
from memory_graph.timeparse import parse_timestamp
from memory_graph.writes import (
    PersonalityUpdate,
    Restatement,
    SessionConsolidationWrite,
    TurnMemoryWrite,
)

MAX_TURN_CHARS = 20_000
#: Nodes ``forget_memory`` does not take by id: the user (``forget_user``), a personality
#: estimate and a photo (they go with the turn they came from).
UNFORGETTABLE_ALONE = frozenset({NodeLabel.USER, NodeLabel.PERSONALITY, NodeLabel.IMAGE})
#: The key of the RELATES edge from a corrected memory's successor to it (``correct``).
CORRECTS = "corrects"


@dataclass(frozen=True)
class TurnInput:
    """One raw utterance to remember, as a caller hands it over."""

    text: str
    at: datetime | str
    session_id: str
    role: str = "user"
    speaker: str = ""
    turn_id: str | None = None
    #: False for a user turn stored before its reply (``add_turns(answering=...)`` of the
    #: reply sets it); see ``unanswered_turns``.
    answered: bool = True
    memory_work: MemoryWorkState = "none"
    seq: int = 0
    image_captions: Sequence[str] = field(default_factory=tuple)


class MemoryGraph:
    """Temporal memory of many users over one ``GraphStore``; every call names the user.
    The only writer to the store (``commit``: one memory write, one transaction). Its
    methods come in sections by concern: users, turns and sessions, derived memories,
    entities and preferences, personality, graph reads, memory-work state, forgetting."""

    def __init__(self, store: GraphStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    # -- users and the one write --
    def ensure_user(self, user_id: str, name: str = "") -> None:
        check_user_id(user_id)
        if not self.store.has_user(user_id):
            self.store.ensure_user(User(id=user_id, user_id=user_id, name=name))

    def has_user(self, user_id: str) -> bool:
        return self.store.has_user(user_id)

    def user(self, user_id: str) -> User:
        found = self.store.get_nodes(user_id, [user_id], embeddings=False)
        if not found or not isinstance(found[0], User):
            raise UnknownUserError(user_id)
        return found[0]

    def users(self) -> list[str]:
        """Every user the store holds, sorted."""
        return sorted(self.store.users())

    def embed(self, nodes: Sequence[SearchableNode]) -> None:
        """Fill in the embeddings of nodes that lack one, in one batch."""
        pending = [n for n in nodes if n.embedding is None and n.search_text()]
        vectors = self.embedder.embed_documents([n.search_text() for n in pending])
        for node, vector in zip(pending, vectors, strict=True):
            node.embedding = vector

    def commit(self, user_id: str, batch: WriteBatch) -> None:
        """The one way memories reach the store: embed the batch's searchable nodes that
        lack a vector, then commit it as one transaction (all of it or nothing)."""
        self.embed([n for n in batch.nodes if isinstance(n, SearchableNode)])
        self.store.commit(user_id, batch)

    # -- turns and sessions --
    def add_turns(self, user_id: str, turns: Sequence[TurnInput],
                  images: Mapping[str, Sequence[Image]] | None = None,
                  answering: str | None = None) -> list[Turn]:
        """Store raw turns (and their sessions, and the photos shared in them, by turn id)
        in one transaction; all-or-nothing. ``answering``: the id of the user turn these
        turns reply to, marked answered in the same transaction (the exchange is whole)."""
        check_user_id(user_id)
        built = [self._build_turn(user_id, t) for t in turns]
        answered: list[Node] = []
        if answering is not None:
            question = self.store.get_nodes(user_id, [answering])
            if not question or not isinstance(question[0], Turn):
                raise InvalidInputError(f"no turn {answering!r} to answer")
            answered = [question[0].model_copy(update={"answered": True})]
        sessions = self._sessions_after(user_id, built)
        chronology = self._chronology_edges(user_id, built)
        photos = [(turn, image) for turn in built for image in (images or {}).get(turn.id, ())]
        self.commit(user_id, WriteBatch(
            nodes=[*sessions.values(), *built, *(image for _, image in photos), *answered],
            edges=[*(Edge(type=EdgeType.IN_SESSION, user_id=user_id, source=t.id,
                          target=t.session_id, recorded_at=t.at) for t in built),
                   *chronology,
                   *(Edge(type=EdgeType.HAS_IMAGE, user_id=user_id, source=turn.id,
                          target=image.id, recorded_at=turn.at) for turn, image in photos)]))
        return built

    def _sessions_after(self, user_id: str, turns: Sequence[Turn]) -> dict[str, Session]:
        """The sessions whose span (started_at, ended_at) the new turns create or widen."""
        spans: dict[str, tuple[datetime, datetime]] = {}
        for turn in turns:
            lo, hi = spans.get(turn.session_id, (turn.at, turn.at))
            spans[turn.session_id] = (min(lo, turn.at), max(hi, turn.at))
        existing = {s.id: s for s in self.store.get_nodes(user_id, list(spans))
                    if isinstance(s, Session)}
        changed: dict[str, Session] = {}
        for session_id, (lo, hi) in spans.items():
            old = existing.get(session_id)
            if old is None:
                changed[session_id] = Session(id=session_id, user_id=user_id, started_at=lo,
                                              ended_at=hi)
                continue
            start = min(old.started_at, lo)
            end = max(old.ended_at or old.started_at, hi)
            if start != old.started_at or end != old.ended_at:
                changed[session_id] = old.model_copy(update={"started_at": start,
                                                             "ended_at": end})
        return changed

    def _chronology_edges(self, user_id: str, new_turns: Sequence[Turn]) -> list[Edge]:
        """``NEXT`` edges linking each session's turns in order, old turns included."""
        edges: list[Edge] = []
        for session_id in dict.fromkeys(t.session_id for t in new_turns):
            merged = {t.id: t for t in self.session_turns(user_id, session_id)}
            merged.update((t.id, t) for t in new_turns if t.session_id == session_id)
            ordered = sorted(merged.values(), key=lambda t: (t.at, t.seq))
            new_ids = {t.id for t in new_turns}
            edges.extend(
                Edge(type=EdgeType.NEXT, user_id=user_id, source=a.id, target=b.id,
                     recorded_at=b.at)
                for a, b in pairwise(ordered)
                if a.id in new_ids or b.id in new_ids
            )
        return edges

    def _build_turn(self, user_id: str, turn: TurnInput) -> Turn:
        text = turn.text.strip() if isinstance(turn.text, str) else ""
        if not text and not turn.image_captions:
            raise InvalidInputError("a turn needs text or an image; got empty text")
        if len(text) > MAX_TURN_CHARS:
            raise InvalidInputError(f"turn text has {len(text)} characters; "
                                    f"the limit is {MAX_TURN_CHARS}")
        check_unicode(text, "turn text")
        check_unicode(turn.speaker, "the speaker")
        for caption in turn.image_captions:
            check_unicode(caption, "a photo's caption")
        at = parse_timestamp(turn.at)
        turn_id = turn.turn_id or stable_id(user_id, turn.session_id, at.isoformat(), text)
        try:
            return Turn(id=turn_id, user_id=user_id, session_id=turn.session_id,
                        role="assistant" if turn.role == "assistant" else "user",
                        speaker=turn.speaker, text=text, at=at, seq=turn.seq,
                        image_captions=[c for c in turn.image_captions if c],
                        answered=turn.answered, memory_work=turn.memory_work)
        except ValidationError as exc:
            raise InvalidInputError(f"invalid turn: {exc}") from exc

    def session(self, user_id: str, session_id: str) -> Session | None:
        found = self.store.get_nodes(user_id, [session_id], embeddings=False)
        return found[0] if found and isinstance(found[0], Session) else None

    def latest_session(self, user_id: str) -> Session | None:
        """The session that began last (sessions do not overlap: a new one begins after
        the last one's end and a gap, or before the last one began)."""
        session = self._latest(user_id, NodeLabel.SESSION)
        return session if isinstance(session, Session) else None

    def session_for(self, user_id: str, at: datetime, gap: timedelta
                    ) -> tuple[str, bool, Session | None]:
        """The session a turn said at ``at`` belongs to, whether it is a new one, and the
        user's last session: the last one continues unless the turn comes more than
        ``gap`` after its end, or before it began."""
        last = self.latest_session(user_id)
        if last is not None and not (at - (last.ended_at or last.started_at) > gap
                                     or at < last.started_at):
            return last.id, False, last
        return stable_id(user_id, "session", at.isoformat()), True, last

    def _latest(self, user_id: str, label: NodeLabel) -> Node | None:
        """The node of ``label`` with the latest event time (one read, from an order)."""
        found = self.store.latest_nodes(user_id, label, 1)
        return found[0] if found else None

    def sessions(self, user_id: str, where: dict[str, Scalar] | None = None) -> list[Session]:
        """The user's sessions (those whose properties equal ``where``), oldest first."""
        return sorted((s for s in self.store.find_nodes(user_id, NodeLabel.SESSION, where)
                       if isinstance(s, Session)), key=lambda s: s.started_at)

    def session_turns(self, user_id: str, session_id: str) -> list[Turn]:
        members = self.store.edges(user_id, [session_id], [EdgeType.IN_SESSION], "in")
        turns = self.store.get_nodes(user_id, [e.source for e in members])
        return sorted((t for t in turns if isinstance(t, Turn)), key=lambda t: (t.at, t.seq))

    def turns(self, user_id: str) -> list[Turn]:
        """The user's raw turns in the order they were said."""
        turns = self.store.find_nodes(user_id, NodeLabel.TURN)
        return sorted((t for t in turns if isinstance(t, Turn)), key=lambda t: (t.at, t.seq))

    def unanswered_turns(self, user_id: str) -> list[Turn]:
        """User turns stored before a reply that never came (a failed or killed run). Asked
        of the store by property, not by reading every turn: it runs at every turn."""
        return [t for t in self.store.find_nodes(user_id, NodeLabel.TURN,
                                                 where={"answered": False})
                if isinstance(t, Turn)]

    def turn_image_ids(self, user_id: str, turn_id: str) -> list[str]:
        """The ids of a turn's photos (its ``HAS_IMAGE`` edges, as the store lists them)."""
        return list(dict.fromkeys(edge.target for edge in self.store.edges(
            user_id, [turn_id], [EdgeType.HAS_IMAGE], direction="out")))

    def image_hashes(self, user_id: str) -> set[str]:
        """The content hashes of the user's stored photos: the media files in use."""
        return {n.sha256 for n in self.store.find_nodes(user_id, NodeLabel.IMAGE)
                if isinstance(n, Image)}

    def close_session(self, user_id: str, session_id: str, summary: str, owner: str) -> None:
        """Record a finished session as settled without a consolidation (its summary
        written by the caller from what extraction kept), releasing ``owner``'s claim: one
        compare-and-set, so a session forgotten meanwhile is not written back."""
        session = self.session(user_id, session_id)
        if session is not None:
            self._update_work(user_id, session, {
                "summary": summary[:4000] or "(nothing to keep)", "consolidation_error": "",
                "work_claim": "", "work_claim_until": None}, owner)

    # -- derived memories: facts, topics, routines --
    def record_turn_memories(self, user_id: str, memories: TurnMemoryWrite) -> None:
        """Store what a turn taught, linked to the turn, in one transaction."""
        at, turn_id = memories.at, memories.turn_id
        facts = [linked.fact for linked in memories.facts]
        edges = [edge for entity in memories.entities
                 for edge in _provenance(user_id, entity.id, at, [turn_id], ())]
        edges += [edge for linked in memories.facts
                  for edge in _provenance(user_id, linked.fact.id, at, [turn_id],
                                          linked.entity_ids)]
        edges += [Edge(type=EdgeType.DEPICTS, user_id=user_id, source=image_id,
                       target=entity_id, valid_from=at, recorded_at=at,
                       source_turns=[turn_id]) for image_id, entity_id in memories.depicted]
        for change in memories.preferences:
            edges += self.preference_edges(user_id, change.entity_id, likes=change.likes,
                                           at=at, reason=change.reason, from_turns=[turn_id])
        edges += _restatement_edges(user_id, memories.restated, at)
        closed = self._closed_memories(user_id, memories.closed, at)
        self.commit(user_id, WriteBatch(nodes=[*memories.entities, *facts, *closed],
                                        edges=edges))

    def _closed_memories(self, user_id: str, ids: Sequence[str], at: datetime
                         ) -> list[Fact | Routine]:
        """The current facts and routines among ``ids`` that began before ``at``, with
        their valid time ended at ``at``."""
        return [node.model_copy(update={"valid_to": at})
                for node in self.store.get_nodes(user_id, list(dict.fromkeys(ids)))
                if isinstance(node, Fact | Routine) and node.is_current()
                and (node.event_time() or at) <= at]

    def remember(self, user_id: str, statement: str, *, memory_id: str,
                 at: datetime | None = None, stored_as: StoreItemRef | None = None) -> Fact:
        """Store a memory the user, or an agent on their behalf, asked to keep: a current
        "remember" fact from ``at`` (now by default), with no turn behind it. The same
        ``memory_id`` again replaces it (keeping when it was first recorded). One
        transaction; the user is created if new."""
        self.ensure_user(user_id)
        moment = at or utc_now()
        earlier = self.find(user_id, memory_id)
        try:
            fact = Fact(id=memory_id, user_id=user_id, statement=statement, kind="remember",
                        at=moment, stored_as=stored_as,
                        created_at=earlier.created_at if earlier else utc_now())
        except ValidationError as exc:
            raise InvalidInputError(f"invalid memory: {exc}") from exc
        if earlier and not isinstance(earlier, Fact):
            raise InvalidInputError(f"{memory_id!r} is a {earlier.label.value}, not a "
                                    "memory that can be replaced")
        self.commit(user_id, WriteBatch(nodes=[fact]))
        return fact

    def correct(self, user_id: str, memory_id: str, text: str,
                at: datetime | None = None) -> Fact | Routine:
        """Correct a fact or a habit: the memory is closed in valid time at ``at`` (now by
        default), kept as history, and a new one of the same kind says ``text`` from then,
        linked to it (``corrections``). One transaction. ``UnknownMemoryError`` when the id
        names no current fact or habit of the user; a turn is what was said and is never
        rewritten (forget it, or add what is true now)."""
        old = self.find(user_id, memory_id)
        if not isinstance(old, Fact | Routine) or not old.is_current():
            raise UnknownMemoryError(user_id, "current fact or habit", memory_id)
        moment = at or utc_now()
        new_id = stable_id(user_id, "correction", memory_id, moment.isoformat(), text)
        try:
            new: Fact | Routine = (
                old.model_copy(update={"id": new_id, "statement": text, "at": moment,
                                       "valid_to": None, "embedding": None,
                                       "created_at": utc_now()})
                if isinstance(old, Fact) else
                old.model_copy(update={"id": new_id, "description": text,
                                       "updated_at": moment, "valid_to": None,
                                       "embedding": None, "created_at": utc_now()}))
            new = type(new).model_validate(new.model_dump())
        except ValidationError as exc:
            raise InvalidInputError(f"invalid correction: {exc}") from exc
        self.commit(user_id, WriteBatch(
            nodes=[old.model_copy(update={"valid_to": moment}), new],
            edges=[Edge(type=EdgeType.RELATES, user_id=user_id, source=new.id,
                        target=old.id, key=CORRECTS, predicate=CORRECTS,
                        valid_from=moment, recorded_at=moment)]))
        return new

    def corrections(self, user_id: str, memory_id: str) -> list[Node]:
        """The versions of a memory, oldest first: those it corrected and those that
        corrected it (``correct``), itself among them."""
        chain: dict[str, Node] = {}
        frontier = [memory_id]
        while frontier:
            nodes = self.store.get_nodes(user_id, frontier, embeddings=False)
            chain.update((n.id, n) for n in nodes)
            edges = self.store.edges(user_id, [n.id for n in nodes], [EdgeType.RELATES], "both")
            frontier = [other for e in edges if e.key == CORRECTS
                        for other in (e.source, e.target) if other not in chain]
        return sorted(chain.values(), key=lambda n: (n.event_time() or n.created_at, n.id))

    def current_facts(self, user_id: str) -> list[Fact]:
        """The user's stated facts ("fact" and "remember") that no later fact closed."""
        return [n for n in self.store.find_nodes(user_id, NodeLabel.FACT)
                if isinstance(n, Fact) and n.kind != "visual" and n.is_current()]

    def similar_facts(self, user_id: str, text: str, k: int) -> list[tuple[Fact, float]]:
        """The ``k`` current facts closest in meaning to ``text``, with their cosine."""
        return [(node, score) for node, score in
                self._nearest_current(user_id, NodeLabel.FACT, text, k * 2)
                if isinstance(node, Fact) and node.kind != "visual"][:k]

    def similar_routines(self, user_id: str, text: str, k: int
                         ) -> list[tuple[Routine, float]]:
        """The ``k`` current habits and goals closest in meaning to ``text``, with their
        cosine."""
        return [(node, score) for node, score in
                self._nearest_current(user_id, NodeLabel.ROUTINE, text, k * 2)
                if isinstance(node, Routine)][:k]

    def _nearest_current(self, user_id: str, label: NodeLabel, text: str, n: int
                         ) -> list[tuple[Fact | Routine, float]]:
        """The ``n`` nodes of ``label`` nearest to ``text``, those no later fact closed."""
        vector = self.embedder.embed_query(text)
        return [(h.node, h.score) for h in self.store.vector_search(user_id, label, vector, n)
                if isinstance(h.node, Fact | Routine) and h.node.is_current()]

    def record_consolidation(self, user_id: str, write: SessionConsolidationWrite) -> int:
        """Store a session's consolidation in one transaction: events chained (NEXT) after
        the user's latest earlier event, everything linked to its turns, the session's
        summary, the core profile, and the routines pruned to the newest ones. Returns how
        many of the session's routines were kept."""
        session = write.session
        end = write.ended_at
        events = [e.event for e in write.events]
        new_ids = {event.id for event in events}
        previous = sorted((e for e in self.store.find_nodes(user_id, NodeLabel.EVENT)
                           if isinstance(e, Event) and e.occurred_at <= session.started_at
                           and e.id not in new_ids),
                          key=lambda e: e.occurred_at)[-1:]
        known = {r.id: r for r in self.store.find_nodes(user_id, NodeLabel.ROUTINE)
                 if isinstance(r, Routine)}
        known.update((r.id, r) for r in write.routines)
        # Closed routines (history) give way first, then the oldest.
        newest = sorted(known.values(), key=lambda r: (r.is_current(), r.updated_at),
                        reverse=True)
        stale = {r.id for r in newest[write.keep_routines:]}
        routines = [r for r in write.routines if r.id not in stale]
        chain = previous + sorted(events, key=lambda e: e.occurred_at)
        edges = [Edge(type=EdgeType.NEXT, user_id=user_id, source=a.id, target=b.id,
                      recorded_at=b.occurred_at) for a, b in pairwise(chain)]
        for item in write.events:
            edges += _provenance(user_id, item.event.id, item.event.occurred_at,
                                 item.turn_ids, item.entity_ids)
        for node in [*routines, *write.entities]:
            edges += _provenance(user_id, node.id, end, write.turn_ids, ())
        for cited in write.facts:
            edges += _provenance(user_id, cited.fact.id, cited.fact.at, cited.turn_ids,
                                 cited.entity_ids)
        edges += _restatement_edges(user_id, write.restated, end)
        nodes: list[Node] = [*events, *(c.fact for c in write.facts), *routines,
                             *write.entities,
                             session.model_copy(update={"summary": write.summary[:4000],
                                                        "work_claim": "",
                                                        "work_claim_until": None})]
        if write.profile.strip():
            nodes.append(self.user(user_id).model_copy(
                update={"profile": write.profile.strip()[:4000]}))
        self.commit(user_id, WriteBatch(nodes=nodes, edges=edges,
                                        delete_node_ids=sorted(stale)))
        return len(routines)

    def facts_of_turns(self, user_id: str, turn_ids: Sequence[str]) -> list[Fact]:
        """The current facts learned from any of ``turn_ids``, oldest first."""
        facts = [n for n in self.derived_from(user_id, turn_ids)
                 if isinstance(n, Fact) and n.is_current()]
        return sorted(facts, key=lambda f: f.at)

    def find(self, user_id: str, memory_id: str) -> Node | None:
        """The user's node ``memory_id`` (without its vector), None when there is none."""
        found = self.store.get_nodes(user_id, [memory_id], embeddings=False)
        return found[0] if found else None

    def derived_from(self, user_id: str, turn_ids: Sequence[str]) -> list[Node]:
        """The memories learned from any of the turns (their FROM_TURN edges)."""
        sources = {e.source for e in self.store.edges(user_id, list(turn_ids),
                                                      [EdgeType.FROM_TURN], "in")}
        return self.store.get_nodes(user_id, sorted(sources), embeddings=False)

    def source_turns(self, user_id: str, node_id: str) -> list[str]:
        """Ids of the turns a derived memory was learned from (its ``FROM_TURN`` edges)."""
        return [e.target for e in self.store.edges(user_id, [node_id], [EdgeType.FROM_TURN],
                                                  "out")]

    # -- entities and preferences --
    def upsert_entity(self, user_id: str, entity: Entity, from_turns: Iterable[str] = ()) -> None:
        self.commit(user_id, WriteBatch(nodes=[entity], edges=[
            Edge(type=EdgeType.FROM_TURN, user_id=user_id, source=entity.id, target=turn_id)
            for turn_id in from_turns]))

    def set_preference(self, user_id: str, entity_id: str, *, likes: bool,
                       at: datetime | str, reason: str = "", strength: float = 1.0,
                       from_turns: Sequence[str] = ()) -> Edge:
        """Record that the user (dis)likes an entity from ``at`` on (``preference_edges``)."""
        edges = self.preference_edges(user_id, entity_id, likes=likes, at=at, reason=reason,
                                      strength=strength, from_turns=from_turns)
        self.commit(user_id, WriteBatch(edges=edges))
        return edges[-1]

    def preference_edges(self, user_id: str, entity_id: str, *, likes: bool,
                         at: datetime | str, reason: str = "", strength: float = 1.0,
                         from_turns: Sequence[str] = ()) -> list[Edge]:
        """The edges that record a (dis)like of an entity from ``at`` on, for a batch: the
        new edge last, after any current edge of the opposite polarity to the same entity,
        closed at ``at`` (``valid_to``) and retired now (``expired_at``); that one stays
        readable in history."""
        valid_from = parse_timestamp(at)
        edge_type = EdgeType.PREFERS if likes else EdgeType.DISLIKES
        now = utc_now()
        closed: list[Edge] = []
        for edge in self.store.edges(user_id, [user_id], list(PREFERENCE_EDGES), "out"):
            if edge.target == entity_id and edge.expired_at is None and edge.valid_to is None \
                    and edge.type != edge_type:
                closed.append(edge.model_copy(update={"valid_to": valid_from, "expired_at": now}))
        new_edge = Edge(type=edge_type, user_id=user_id, source=user_id, target=entity_id,
                        key=valid_from.isoformat(), reason=reason, strength=strength,
                        valid_from=valid_from, recorded_at=now,
                        source_turns=list(from_turns))
        return [*closed, new_edge]

    def preferences(self, user_id: str, *, as_of: datetime | str | None = None,
                    history: bool = False) -> list[Edge]:
        """The user's PREFERS/DISLIKES edges: valid now, valid ``as_of``, or every version."""
        edges = self.store.edges(user_id, [user_id], list(PREFERENCE_EDGES), "out")
        if not history:
            moment = parse_timestamp(as_of) if as_of is not None else None
            edges = [e for e in edges if e.is_current(moment)]
        return sorted(edges, key=lambda e: (e.valid_from or e.recorded_at, e.recorded_at))

    def preference_names(self, user_id: str, edges: Sequence[Edge]) -> dict[str, str]:
        """Name of each preference edge's target entity (its id when it has no name), in
        one store call."""
        nodes = self.store.get_nodes(user_id, [e.target for e in edges], embeddings=False)
        names = {n.id: str(getattr(n, "name", n.id)) for n in nodes}
        return {e.target: names.get(e.target, e.target) for e in edges}

    def entities(self, user_id: str) -> list[Entity]:
        return [e for e in self.store.find_nodes(user_id, NodeLabel.ENTITY)
                if isinstance(e, Entity)]

    def similar_entities(self, user_id: str, name: str, k: int) -> list[tuple[Entity, float]]:
        """The ``k`` entities whose embedded name and summary are closest to ``name``."""
        vector = self.embedder.embed_query(name)
        return [(h.node, h.score) for h in
                self.store.vector_search(user_id, NodeLabel.ENTITY, vector, k)
                if isinstance(h.node, Entity)]

    # -- personality --
    def personality_observed(self, user_id: str, turn_id: str) -> bool:
        """Whether a personality estimate was inferred from this turn already (the
        observation is part of the turn's memory work, run at most once per turn)."""
        return any(isinstance(node, PersonalitySnapshot)
                   for node in self.derived_from(user_id, [turn_id]))

    def latest_personality(self, user_id: str) -> PersonalitySnapshot | None:
        """The user's current personality: the snapshot with the latest time (each is
        later than the one it updates, ``Personality.updated``), one read whatever the
        history's length."""
        snapshot = self._latest(user_id, NodeLabel.PERSONALITY)
        return snapshot if isinstance(snapshot, PersonalitySnapshot) else None

    def personality_history(self, user_id: str) -> list[PersonalitySnapshot]:
        snapshots = [p for p in self.store.find_nodes(user_id, NodeLabel.PERSONALITY)
                     if isinstance(p, PersonalitySnapshot)]
        return sorted(snapshots, key=lambda p: (p.interactions, p.at))

    def record_personality(self, user_id: str, update: PersonalityUpdate) -> None:
        """Store a personality estimate, linked to the turn it was inferred from."""
        snapshot = update.snapshot
        self.commit(user_id, WriteBatch(nodes=[snapshot], edges=_provenance(
            user_id, snapshot.id, snapshot.at, [update.turn_id], ())))

    # -- graph reads (listings, the graph page, baselines) --
    def nodes(self, user_id: str, label: NodeLabel) -> list[Node]:
        """Every stored node of one label (reads for listings, pictures and baselines)."""
        return self.store.find_nodes(user_id, label)

    def edges(self, user_id: str, node_ids: Sequence[str], types: Sequence[EdgeType] | None = None,
              direction: Direction = "both") -> list[Edge]:
        """Every stored version of the edges at ``node_ids`` (no temporal filtering)."""
        return self.store.edges(user_id, list(node_ids), types, direction)

    # -- memory work: claims and states --
    def claim_work(self, user_id: str, node_id: str, owner: str, lease: timedelta,
                   now: datetime | None = None,
                   gone: Callable[[str], bool] | None = None) -> bool:
        """Claim the memory work of a turn or session for ``owner`` (a process's thread)
        for ``lease``: True when it is this owner's now, False when another owner's claim
        is live, the work is done (another process did it meanwhile) or the node is gone.
        One compare-and-set in the store, so of two owners over one store only one gets
        it; a claim whose lease ran out, or whose owner ``gone`` says has ended, is taken
        over. ``mark_turn_work``, ``mark_consolidation_failed`` and a recorded
        consolidation release it."""
        found = self.store.get_nodes(user_id, [node_id])
        node = found[0] if found else None
        if not isinstance(node, Turn | Session):
            return False
        if (node.memory_work if isinstance(node, Turn) else node.consolidation) == "done":
            return False  # done meanwhile, by another process
        moment = now or utc_now()
        if node.work_claim == owner:
            return True
        if node.held_by_another(owner, moment, gone):
            return False
        claimed = node.model_copy(update={"work_claim": owner,
                                          "work_claim_until": moment + lease})
        return self.store.claim_node(user_id, claimed, node.work_claim)

    def release_work(self, user_id: str, node_id: str, owner: str | None = None) -> None:
        """Give up ``owner``'s claim without recording an outcome (a turn whose extraction
        waits for the rest of its window)."""
        found = self.store.get_nodes(user_id, [node_id])
        if found and isinstance(found[0], Turn | Session) and found[0].work_claim:
            self._update_work(user_id, found[0], {"work_claim": "", "work_claim_until": None},
                              owner)

    def _update_work(self, user_id: str, node: Turn | Session, update: dict[str, Any],
                     owner: str | None) -> None:
        """Change a node's memory-work fields, only while it is still stored and claimed by
        ``owner`` (None: by whoever held it when it was read), as one compare-and-set: a
        turn or session forgotten meanwhile is not written back, and a claim taken over
        meanwhile (its lease ran out) is its new owner's to settle."""
        expected = node.work_claim if owner is None else owner
        self.store.claim_node(user_id, node.model_copy(update=update), expected)

    def turn_work_state(self, user_id: str, turn_id: str) -> MemoryWorkState | None:
        """The memory-work state of a turn; None when it is not (or no longer) stored."""
        found = self.store.get_nodes(user_id, [turn_id], embeddings=False)
        return found[0].memory_work if found and isinstance(found[0], Turn) else None

    def mark_turn_work(self, user_id: str, turn_id: str, state: MemoryWorkState,
                       error: str = "", owner: str | None = None) -> None:
        """Record how a turn's memory work went (a failure counts an attempt) and release
        ``owner``'s claim (None: whoever holds it)."""
        found = self.store.get_nodes(user_id, [turn_id])
        if not found or not isinstance(found[0], Turn):
            return  # forgotten meanwhile
        turn = found[0]
        self._update_work(user_id, turn, {
            "memory_work": state, "memory_error": error[:2000],
            "memory_attempts": turn.memory_attempts + (state == "failed"),
            "work_claim": "", "work_claim_until": None}, owner)

    def mark_consolidation_failed(self, user_id: str, session_id: str, error: str,
                                  owner: str | None = None) -> None:
        session = self.session(user_id, session_id)
        if session is not None:
            self._update_work(user_id, session, {
                "consolidation_error": error[:2000] or "failed",
                "consolidation_attempts": session.consolidation_attempts + 1,
                "work_claim": "", "work_claim_until": None}, owner)

    def unconsolidated_sessions(self, user_id: str) -> list[Session]:
        """The user's sessions without a summary yet (pending or failed), oldest first: read
        from an index, not from every session."""
        return self.sessions(user_id, where={"summary": ""})

    def turns_with_work(self, user_id: str, states: Sequence[MemoryWorkState]) -> list[Turn]:
        """The user's turns whose memory work is in one of ``states``, in the order said
        (asked of the store by property: it runs at every turn)."""
        found = [t for state in states for t in self.store.find_nodes(
            user_id, NodeLabel.TURN, where={"memory_work": state}) if isinstance(t, Turn)]
        return sorted(found, key=lambda t: (t.at, t.seq))

    # -- forgetting --
    def forget_user(self, user_id: str) -> None:
        self.store.drop_user(user_id)

    def forget_session(self, user_id: str, session_id: str) -> ForgetReport:
        """Forget a session: its turns and everything derived from them, the remaining
        texts that quote them, and the session; ``UnknownMemoryError`` (nothing changed)
        when it is not one of the user's."""
        session = user_session(self.store, user_id, session_id)
        turns = self.session_turns(user_id, session.id)
        plan = plan_forget(self.store, user_id, turns, extra_nodes=[session])
        plan.report.counts["sessions"] += 1
        return self._forget(plan)

    def forget_turn(self, user_id: str, turn_id: str) -> ForgetReport:
        """Forget a turn, the reply of its exchange and their text everywhere it reached
        (``memory_graph.forgetting``), quotes in the remaining texts included
        (``memory_graph.quote_search``); ``UnknownMemoryError`` (nothing changed) when the id
        is not one of the user's turns."""
        turn = user_turn(self.store, user_id, turn_id)
        return self._forget(plan_forget(self.store, user_id,
                                        with_replies(self.store, user_id, [turn])))

    def forget_memory(self, user_id: str, memory_id: str) -> ForgetReport:
        """Forget one memory by id: a turn or a session as ``forget_turn`` and
        ``forget_session`` do; any other memory (a fact, event, routine or entity)
        alone, with its edges and index entries (a photo goes with its turn), and the
        remaining texts that quote it (``memory_graph.quote_search``).
        ``UnknownMemoryError`` (nothing changed) when the id names none of these."""
        node = self.find(user_id, memory_id)
        if node is None or node.label in UNFORGETTABLE_ALONE:
            raise UnknownMemoryError(user_id, "memory", memory_id)
        if isinstance(node, Turn):
            return self.forget_turn(user_id, node.id)
        if isinstance(node, Session):
            return self.forget_session(user_id, node.id)
        return self._forget(plan_forget(self.store, user_id, [], extra_nodes=[node]))

    def drop_exchange(self, user_id: str, turn_id: str) -> ForgetReport:
        """Remove an exchange that never completed (its reply failed or never came): the
        turn and what was derived from it, as ``forget_turn`` does, but not the quotes of
        it elsewhere: nobody asked to forget it, and the user may have said the same
        thing, kept, in another turn. ``UnknownMemoryError`` as ``forget_turn``."""
        turn = user_turn(self.store, user_id, turn_id)
        plan = plan_forget(self.store, user_id, with_replies(self.store, user_id, [turn]),
                           quotes=Quotes())
        self.commit(user_id, plan.batch(forgets=False))
        return plan.finish()

    def _forget(self, plan: ForgetPlan) -> ForgetReport:
        """Complete a plan with the quotes of its texts and commit it as one transaction."""
        remove_quotes(self.store, plan)
        self.commit(plan.user_id, plan.batch())
        return plan.finish()


def _restatement_edges(user_id: str, restated: Sequence[Restatement], moment: datetime
                       ) -> list[Edge]:
    return [edge for item in restated
            for edge in _provenance(user_id, item.fact_id, moment, item.turn_ids, ())]


def _provenance(user_id: str, source: str, moment: datetime, turn_ids: Sequence[str],
                entity_ids: Sequence[str]) -> list[Edge]:
    """A derived memory's edges: FROM_TURN to the turns it comes from, INVOLVES to the
    entities it is about (valid from ``moment``)."""
    return [*(Edge(type=EdgeType.FROM_TURN, user_id=user_id, source=source, target=turn_id,
                   recorded_at=moment) for turn_id in turn_ids),
            *(Edge(type=EdgeType.INVOLVES, user_id=user_id, source=source, target=entity_id,
                   valid_from=moment, recorded_at=moment) for entity_id in entity_ids)]
