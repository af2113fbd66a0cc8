"""Consolidation of a finished session: episodic topics linked to their raw turns,
procedural habits and goals (a handful, latest wins), and the core profile."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from memory_graph.schema import (
    Entity,
    Event,
    Fact,
    Routine,
    Session,
    Turn,
    stable_id,
)
from memory_graph.writes import CitedFact, SessionConsolidationWrite, SessionEvent
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
        session = memory.session(user_id, session_id)
        user = memory.user(user_id)
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
    resolver = EntityResolver(memory, user_id, None if bulk else res.chat, meter, errors,
                              source=" ".join(t.search_text() for t in turns),
                              excluded=(ctx.assistant_name,))
    events: list[SessionEvent] = []
    for topic in result.topics:
        covered = [turns[i - 1] for i in topic.turns if 1 <= i <= len(turns)] or turns
        event = Event(id=stable_id(user_id, "event", session.id, topic.summary),
                      user_id=user_id, summary=topic.summary.strip(),
                      occurred_at=covered[0].at, kind="topic")
        events.append(SessionEvent(event, [t.id for t in covered], [
            e.id for e in resolver.resolve_all(topic.entities)]))
    end = session.ended_at or turns[-1].at
    facts = session_facts(user_id, session, turns, result, resolver)
    routines = [Routine(id=stable_id(user_id, "routine", normalise_name(r.description)),
                        user_id=user_id, description=r.description.strip(), kind=r.kind,
                        updated_at=end) for r in result.routines]
    with meter.store():
        kept = memory.record_consolidation(user_id, SessionConsolidationWrite(
            session=session, turn_ids=[t.id for t in turns], ended_at=end,
            summary=" ".join(e.event.summary for e in events) or "(no topics)",
            events=events,
            facts=[CitedFact(fact, cited, [e.id for e in linked])
                   for fact, cited, linked in facts],
            routines=routines, entities=list(resolver.touched()),
            profile=result.profile, keep_routines=MAX_ROUTINES))
    return {"topics": len(events), "facts": len(facts), "routines": kept,
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
        linked = resolver.resolve_all(item.entities)
        facts.append((fact, [t.id for t in cited[:6]], linked))
    return facts
