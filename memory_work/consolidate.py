"""Consolidation of a finished session: episodic topics linked to their raw turns,
procedural habits and goals (a handful, latest wins), and the core profile."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import call_structured
from memory_graph.schema import (
    Entity,
    Event,
    Fact,
    Routine,
    Session,
    Turn,
    stable_id,
)
from memory_graph.text import tokenize
from memory_graph.writes import CitedFact, Restatement, SessionConsolidationWrite, SessionEvent
from memory_work.entities import EntityResolver, normalise_name
from memory_work.model_outputs import ProceduralMemory, SessionConsolidation, SessionNotes
from memory_work.prompts import (
    CONSOLIDATE_SHAPE,
    CONSOLIDATE_SYSTEM,
    CONSOLIDATE_USER,
    NOTES_SHAPE,
    NOTES_SYSTEM,
)
from memory_work.reconcile import reconcile_facts
from memory_work.turn_memories import mentioned_in

MAX_ROUTINES = 5
#: Output budget of a consolidation call: at about 11 tokens/s under a grammar on two
#: cores, it bounds the call to about 20 s with its prompt. A cut-off output keeps its
#: finished items (``agent_runtime.structured.parse_cut_off``).
CONSOLIDATION_TOKENS = 140
MAX_TRANSCRIPT_CHARS = 5000
MAX_LINE_CHARS = 240


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
    messages = consolidation_messages(ctx, user.profile, turns)
    result: SessionConsolidation | SessionNotes
    if ctx.extraction_mode == "session":
        result = call_structured(res.chat, messages, SessionNotes, meter,
                                 "consolidate_session", shape=NOTES_SHAPE,
                                 max_tokens=CONSOLIDATION_TOKENS)
    else:
        result = call_structured(res.chat, messages, SessionConsolidation, meter,
                                 "consolidate_session", shape=CONSOLIDATE_SHAPE,
                                 max_tokens=CONSOLIDATION_TOKENS)
    return write_consolidation(res, ctx, session, turns, result, meter, errors)


def consolidation_messages(ctx: Context, profile: str, turns: list[Turn]
                           ) -> list[SystemMessage | HumanMessage]:
    with_facts = ctx.extraction_mode == "session"
    # The assistant's replies are no evidence about the user: a conversation with the
    # assistant is consolidated from what the user said (a history replayed in bulk, whose
    # speakers are all people, keeps every line).
    said = turns if with_facts else [t for t in turns if t.role == "user"] or turns
    lines = []
    for number, turn in enumerate(said, 1):
        who = turn.speaker or (ctx.display_name if turn.role == "user" else "assistant")
        text = turn.search_text().removeprefix(f"{turn.speaker}: ") if turn.speaker else \
            turn.search_text()
        lines.append(f"{number}. {who}: {text[:MAX_LINE_CHARS]}")
    transcript = "\n".join(lines)
    if len(transcript) > MAX_TRANSCRIPT_CHARS:
        transcript = "...\n" + transcript[-MAX_TRANSCRIPT_CHARS:]
    return [
        SystemMessage(NOTES_SYSTEM.format(shape=NOTES_SHAPE) if with_facts else
                      CONSOLIDATE_SYSTEM.format(user=ctx.display_name, shape=CONSOLIDATE_SHAPE)),
        HumanMessage(CONSOLIDATE_USER.format(profile=profile or "(empty)",
                                             date=turns[0].at.date().isoformat(),
                                             transcript=transcript)),
    ]


def write_consolidation(res: Resources, ctx: Context, session: Session, turns: list[Turn],
                        result: SessionConsolidation | SessionNotes, meter: CostMeter,
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
        covered = citing_turns(topic.summary, turns, MAX_TOPIC_TURNS) or turns
        event = Event(id=stable_id(user_id, "event", session.id, topic.summary),
                      user_id=user_id, summary=topic.summary.strip(),
                      occurred_at=covered[0].at, kind="topic")
        events.append(SessionEvent(event, [t.id for t in covered], [
            e.id for e in resolver.resolve_all(topic.entities)]))
    end = session.ended_at or turns[-1].at
    facts = session_facts(user_id, session, turns, result, resolver)
    # Bulk ingestion merges restated facts by their words only (no model call per session).
    settled = reconcile_facts(res, user_id, ctx.display_name, [f for f, _, _ in facts], meter,
                              errors, ask_model=False)
    cited_by = {fact.id: cited for fact, cited, _ in facts}
    restated = [Restatement(old, cited_by[new]) for old, new in settled.restated.items()]
    fresh = {f.id for f in settled.new}
    facts = [item for item in facts if item[0].id in fresh]
    routines = [Routine(id=stable_id(user_id, "routine", normalise_name(r.description)),
                        user_id=user_id, description=r.description.strip(), kind=r.kind,
                        updated_at=end) for r in real_routines(result.routines, turns)]
    profile = result.profile if isinstance(result, SessionConsolidation) else ""
    with meter.store():
        kept = memory.record_consolidation(user_id, SessionConsolidationWrite(
            session=session, turn_ids=[t.id for t in turns], ended_at=end,
            summary=" ".join(e.event.summary for e in events) or "(no topics)",
            events=events,
            facts=[CitedFact(fact, cited, [e.id for e in linked])
                   for fact, cited, linked in facts],
            routines=routines, entities=list(resolver.touched()),
            profile=profile, keep_routines=MAX_ROUTINES, restated=restated))
    return {"topics": len(events), "facts": len(facts), "restated": len(restated),
            "routines": kept,
            "profile_updated": bool(profile.strip())}


def session_facts(user_id: str, session: Session, turns: list[Turn],
                  result: SessionConsolidation | SessionNotes, resolver: EntityResolver
                  ) -> list[tuple[Fact, list[str], list[Entity]]]:
    """The facts of a bulk consolidation, each with the turns that say it and the entities
    it names. A fact no turn says (``citing_turns`` finds none) is dropped, as in per-turn
    extraction."""
    if not isinstance(result, SessionNotes):
        return []
    known = list(resolver.touched())
    facts = []
    # A small model packs several facts into one string: each sentence is cited apart.
    sentences = [part.strip() for fact in result.facts
                 for part in re.split(r"(?<=[.!?])\s+", fact) if len(part.strip()) > 3]
    for statement in dict.fromkeys(sentences):
        cited = citing_turns(statement, turns)
        if not cited:
            continue
        fact = Fact(id=stable_id(user_id, "fact", session.id, statement), user_id=user_id,
                    statement=statement.strip(), kind="fact", at=cited[0].at)
        linked = [e for e in known if mentioned_in(e.name, statement)]
        facts.append((fact, [t.id for t in cited], linked))
    return facts


#: Turns a session fact or topic cites at most, and the share of its words (stems) a turn
#: must say (a topic summarises several turns, so each says less of it).
MAX_CITED_TURNS = 2
MAX_TOPIC_TURNS = 6
CITE_SHARE = 0.5
TOPIC_SHARE = 0.3


def citing_turns(statement: str, turns: list[Turn], limit: int = MAX_CITED_TURNS
                 ) -> list[Turn]:
    """The turns that say ``statement``, best first: those holding at least ``CITE_SHARE``
    of its word stems (``TOPIC_SHARE`` when citing more than ``MAX_CITED_TURNS``); the
    speaker's name counts as said by the speaker's turns."""
    share_needed = CITE_SHARE if limit <= MAX_CITED_TURNS else TOPIC_SHARE
    words = set(tokenize(statement))
    if not words:
        return []
    scored = []
    for turn in turns:
        said = set(tokenize(f"{turn.speaker} {turn.search_text()}"))
        share = len(words & said) / len(words)
        if share >= share_needed:
            scored.append((share, -turn.seq, turn))
    return [t for _, _, t in sorted(scored, key=lambda x: (x[0], x[1]), reverse=True)
            [:limit]]


#: A habit names how often; a goal names an intention. Checked against the session's words.
_FREQUENCY = re.compile(r"\b(every|each|daily|weekly|monthly|usually|always|often|never|"
                        r"regularly|routine|habit|sometimes|twice|times a|most (days|"
                        r"mornings|evenings|nights|weekends)|on (mondays|tuesdays|wednesdays|"
                        r"thursdays|fridays|saturdays|sundays|weekends))\b", re.IGNORECASE)
_INTENTION = re.compile(r"\b(want|wants|plan|plans|planning|goal|going to|hope|hoping|aim|"
                        r"training|trying to|will|decided|dream)\b", re.IGNORECASE)


def real_routines(routines: list[ProceduralMemory], turns: list[Turn]
                  ) -> list[ProceduralMemory]:
    """The routines the session supports, each about one thing (no comma-joined list): a
    habit only when the people say how often they do something, a goal only when they
    state an intention."""
    said = " ".join(t.search_text() for t in turns if t.role == "user")
    return [r for r in routines if "," not in r.description and
            (_FREQUENCY if r.kind == "habit" else _INTENTION).search(said)]
