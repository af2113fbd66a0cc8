"""Consolidation of a finished session: episodic topics linked to their raw turns,
procedural habits and goals (a handful, latest wins), and the core profile."""

from __future__ import annotations

import itertools
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

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
    Turn,
    stable_id,
)
from memory_graph.store import WriteBatch
from nodes.context import Context
from nodes.cost import CostMeter
from nodes.entities import EntityResolver, normalise_name
from nodes.prompts import (
    CONSOLIDATE_FACTS_CLAUSE,
    CONSOLIDATE_NOTES_SHAPE,
    CONSOLIDATE_SHAPE,
    CONSOLIDATE_SYSTEM,
    CONSOLIDATE_USER,
)
from nodes.resources import Resources
from nodes.schemas import SessionConsolidation, SessionNotes
from nodes.semantic import mentioned_in
from nodes.structured import call_structured

MAX_ROUTINES = 5
MAX_TRANSCRIPT_CHARS = 6000
MAX_LINE_CHARS = 280


def consolidate_session(res: Resources, ctx: Context, session_id: str, meter: CostMeter,
                        errors: list[str]) -> dict[str, Any]:
    user_id = ctx.user_id
    memory = res.memory
    with meter.store():
        turns = memory.session_turns(user_id, session_id)
        sessions = memory.store.get_nodes(user_id, [session_id], embeddings=False)
        user = memory.user(user_id)
    session = sessions[0] if sessions and isinstance(sessions[0], Session) else None
    if session is None or not turns or session.summary:
        return {"status": "skipped"}
    with_facts = ctx.extraction_mode == "session"
    schema = SessionNotes if with_facts else SessionConsolidation
    result = call_structured(res.chat, consolidation_messages(ctx, user.profile, turns),
                             schema, meter, "consolidate_session",
                             shape=CONSOLIDATE_NOTES_SHAPE if with_facts else CONSOLIDATE_SHAPE,
                             max_tokens=600)
    return write_consolidation(res, ctx, session, turns, result, meter, errors)


def consolidation_messages(ctx: Context, profile: str, turns: list[Turn]
                           ) -> list[SystemMessage | HumanMessage]:
    with_facts = ctx.extraction_mode == "session"
    lines = []
    for number, turn in enumerate(turns, 1):
        who = turn.speaker or (ctx.display_name if turn.role == "user" else "assistant")
        text = turn.search_text().removeprefix(f"{turn.speaker}: ") if turn.speaker else \
            turn.search_text()
        lines.append(f"{number}. [{turn.at:%H:%M}] {who}: {text[:MAX_LINE_CHARS]}")
    transcript = "\n".join(lines)
    if len(transcript) > MAX_TRANSCRIPT_CHARS:
        transcript = "...\n" + transcript[-MAX_TRANSCRIPT_CHARS:]
    return [
        SystemMessage(CONSOLIDATE_SYSTEM.format(
            user=ctx.display_name, facts=CONSOLIDATE_FACTS_CLAUSE if with_facts else "",
            shape=CONSOLIDATE_NOTES_SHAPE if with_facts else CONSOLIDATE_SHAPE)),
        HumanMessage(CONSOLIDATE_USER.format(profile=profile or "(empty)",
                                             date=turns[0].at.date().isoformat(),
                                             transcript=transcript)),
    ]


def write_consolidation(res: Resources, ctx: Context, session: Session, turns: list[Turn],
                        result: SessionConsolidation, meter: CostMeter,
                        errors: list[str]) -> dict[str, Any]:
    user_id = ctx.user_id
    memory = res.memory
    # Bulk mode names many entities at once; it matches them deterministically only (one
    # model call per unmatched name would cost more than the consolidation itself).
    bulk = isinstance(result, SessionNotes)
    resolver = EntityResolver(memory, user_id, None if bulk else res.chat, meter, errors)
    turn_ids = [t.id for t in turns]
    events: list[tuple[Event, list[str]]] = []
    involves: list[Edge] = []
    for topic in result.topics:
        covered = [turns[i - 1] for i in topic.turns if 1 <= i <= len(turns)] or turns
        event = Event(id=stable_id(user_id, "event", session.id, topic.summary),
                      user_id=user_id, summary=topic.summary.strip(),
                      occurred_at=covered[0].at, kind="topic")
        events.append((event, [t.id for t in covered]))
        for name in topic.entities:
            if normalise_name(name):
                entity = resolver.resolve(name)
                involves.append(Edge(type=EdgeType.INVOLVES, user_id=user_id,
                                     source=event.id, target=entity.id,
                                     valid_from=event.occurred_at,
                                     recorded_at=event.occurred_at))
    end = session.ended_at or turns[-1].at
    facts = session_facts(user_id, session, turns, result, resolver)
    routines = [Routine(id=stable_id(user_id, "routine", normalise_name(r.description)),
                        user_id=user_id, description=r.description.strip(), kind=r.kind,
                        updated_at=end) for r in result.routines]
    with meter.store():
        previous_events = [e for e in memory.store.find_nodes(user_id, NodeLabel.EVENT)
                           if isinstance(e, Event) and e.occurred_at <= turns[0].at]
        entities = list(resolver.touched())
        stale = _stale_routines(res, user_id, routines)
        routines = [r for r in routines if r.id not in stale]
        new_nodes: list[Node] = [*(e for e, _ in events), *(f for f, _, _ in facts),
                                 *routines, *entities]
        chain = sorted(previous_events, key=lambda e: e.occurred_at)[-1:] + \
            sorted((e for e, _ in events), key=lambda e: e.occurred_at)
        edges = [Edge(type=EdgeType.NEXT, user_id=user_id, source=a.id, target=b.id,
                      recorded_at=b.occurred_at) for a, b in itertools.pairwise(chain)]
        edges += [Edge(type=EdgeType.FROM_TURN, user_id=user_id, source=event.id, target=tid,
                       recorded_at=event.occurred_at) for event, covered in events
                  for tid in covered]
        edges += [Edge(type=EdgeType.FROM_TURN, user_id=user_id, source=node.id, target=tid,
                       recorded_at=end) for node in [*routines, *entities] for tid in turn_ids]
        edges += [Edge(type=EdgeType.FROM_TURN, user_id=user_id, source=fact.id, target=tid,
                       recorded_at=fact.at) for fact, cited, _ in facts for tid in cited]
        edges += [Edge(type=EdgeType.INVOLVES, user_id=user_id, source=fact.id,
                       target=entity.id, valid_from=fact.at, recorded_at=fact.at)
                  for fact, _, linked in facts for entity in linked]
        summary = " ".join(e.summary for e, _ in events)[:4000] or "(no topics)"
        new_nodes.append(session.model_copy(update={"summary": summary}))
        if result.profile.strip():
            new_nodes.append(memory.user(user_id).model_copy(
                update={"profile": result.profile.strip()[:4000]}))
        memory.commit(user_id, WriteBatch(nodes=new_nodes, edges=[*edges, *involves],
                                          delete_node_ids=sorted(stale)))
    return {"topics": len(events), "facts": len(facts), "routines": len(routines),
            "profile_updated": bool(result.profile.strip())}


def session_facts(user_id: str, session: Session, turns: list[Turn],
                  result: SessionConsolidation, resolver: EntityResolver
                  ) -> list[tuple[Fact, list[str], list[Entity]]]:
    """The facts of a bulk consolidation, each with the turns it cites (those of its
    entities' mentions when it cites none). A fact naming nothing said in the session is
    dropped, as in per-turn extraction."""
    if not isinstance(result, SessionNotes):
        return []
    transcript = " ".join(t.search_text() for t in turns)
    facts = []
    for item in result.facts:
        if item.entities and not any(mentioned_in(n, transcript) for n in item.entities):
            continue
        cited = [turns[i - 1] for i in item.turns if 1 <= i <= len(turns)] or \
            [t for t in turns if any(mentioned_in(n, t.search_text()) for n in item.entities)]
        at = cited[0].at if cited else turns[0].at
        fact = Fact(id=stable_id(user_id, "fact", session.id, item.statement),
                    user_id=user_id, statement=item.statement.strip(), kind="fact", at=at)
        linked = [resolver.resolve(n) for n in item.entities if normalise_name(n)]
        facts.append((fact, [t.id for t in cited[:6]], linked))
    return facts


def _stale_routines(res: Resources, user_id: str, new: list[Routine]) -> set[str]:
    """Ids of the routines beyond the newest ``MAX_ROUTINES`` once ``new`` is written."""
    routines = {r.id: r for r in res.memory.store.find_nodes(user_id, NodeLabel.ROUTINE)
                if isinstance(r, Routine)}
    routines.update((r.id, r) for r in new)
    ordered = sorted(routines.values(), key=lambda r: r.updated_at, reverse=True)
    return {r.id for r in ordered[MAX_ROUTINES:]}
