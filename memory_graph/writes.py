"""Typed write values: what the agent's nodes learned, handed to ``MemoryGraph`` to link to
its provenance and commit as one transaction. Nodes decide *what* was learned; the memory
graph decides how it is stored (which edges, which timestamps, one batch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from memory_graph.schema import Entity, Event, Fact, PersonalitySnapshot, Routine, Session


@dataclass(frozen=True)
class LinkedFact:
    """A fact and the entities it is about (INVOLVES)."""

    fact: Fact
    entity_ids: Sequence[str] = ()


@dataclass(frozen=True)
class PreferenceChange:
    """The user (dis)likes an entity from the turn's time on."""

    entity_id: str
    likes: bool
    reason: str = ""


@dataclass(frozen=True)
class Restatement:
    """A stored fact said again: it gains the new turns as provenance (FROM_TURN) instead
    of a duplicate memory."""

    fact_id: str
    turn_ids: Sequence[str]


@dataclass(frozen=True)
class TurnMemoryWrite:
    """What one user turn taught: entities and facts (FROM_TURN the turn), the entities its
    photos show (DEPICTS, by image id), preference changes, stored facts it restated, and
    stored facts and routines it made untrue (``closed``: their valid time ends at the
    turn)."""

    turn_id: str
    at: datetime
    entities: Sequence[Entity] = ()
    facts: Sequence[LinkedFact] = ()
    depicted: Sequence[tuple[str, str]] = ()  # (image id, entity id)
    preferences: Sequence[PreferenceChange] = field(default_factory=tuple)
    restated: Sequence[Restatement] = ()
    closed: Sequence[str] = ()


@dataclass(frozen=True)
class PersonalityUpdate:
    """A new personality estimate, inferred from one turn (FROM_TURN)."""

    snapshot: PersonalitySnapshot
    turn_id: str


@dataclass(frozen=True)
class SessionEvent:
    """A topic of a session: what it was about (an Event), the turns that cover it
    (FROM_TURN) and the entities it involves (INVOLVES)."""

    event: Event
    turn_ids: Sequence[str]
    entity_ids: Sequence[str] = ()


@dataclass(frozen=True)
class CitedFact:
    """A fact of a session with the turns that say it and the entities it is about."""

    fact: Fact
    turn_ids: Sequence[str]
    entity_ids: Sequence[str] = ()


@dataclass(frozen=True)
class SessionConsolidationWrite:
    """What consolidating a finished session produced. ``summary`` goes on the session,
    ``profile`` (when not empty) replaces the user's core profile, routines and entities are
    linked to every turn of the session, and only the newest ``keep_routines`` routines
    of the user are kept."""

    session: Session
    turn_ids: Sequence[str]
    ended_at: datetime
    summary: str
    events: Sequence[SessionEvent] = ()
    facts: Sequence[CitedFact] = ()
    routines: Sequence[Routine] = ()
    entities: Sequence[Entity] = ()
    profile: str = ""
    keep_routines: int = 5
    restated: Sequence[Restatement] = ()
