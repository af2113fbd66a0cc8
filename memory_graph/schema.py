"""Pydantic schema of the per-user temporal knowledge graph (DESIGN.md §4).

Every node and edge carries ``user_id``. Memory edges are bi-temporal:
``valid_from``/``valid_to`` say when a fact held in the user's life,
``recorded_at``/``expired_at`` say when the system learned and retired it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

UserId = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$",
          description="Owner of the record; every store call is scoped to one user."),
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC so that comparisons never mix kinds."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stable_id(*parts: str) -> str:
    """Deterministic id from its parts, so re-ingesting the same input is idempotent."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


#: The largest value (as JSON) a LangGraph store item may carry.
MAX_STORED_VALUE_CHARS = 20_000

#: The state of the memory work a turn or a session needs (extraction, consolidation).
MemoryWorkState = Literal["none", "pending", "done", "failed"]


class NodeLabel(StrEnum):
    USER = "User"
    SESSION = "Session"
    TURN = "Turn"
    IMAGE = "Image"
    ENTITY = "Entity"
    EVENT = "Event"
    ROUTINE = "Routine"
    FACT = "Fact"
    PERSONALITY = "PersonalitySnapshot"


class EdgeType(StrEnum):
    PREFERS = "PREFERS"
    DISLIKES = "DISLIKES"
    RELATES = "RELATES"
    INVOLVES = "INVOLVES"
    NEXT = "NEXT"
    FROM_TURN = "FROM_TURN"
    HAS_IMAGE = "HAS_IMAGE"
    DEPICTS = "DEPICTS"
    IN_SESSION = "IN_SESSION"


#: Edge types whose truth can change over time; a contradiction closes them.
PREFERENCE_EDGES = frozenset({EdgeType.PREFERS, EdgeType.DISLIKES})


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc_datetimes(cls, value: Any) -> Any:
        return as_utc(value) if isinstance(value, datetime) else value


class Node(_Record):
    """Common fields of every node."""

    label: ClassVar[NodeLabel]
    #: Labels whose nodes are found by keyword and vector search.
    searchable: ClassVar[bool] = False

    id: str = Field(min_length=1, max_length=128, description="Unique within the user's graph.")
    user_id: UserId
    created_at: datetime = Field(default_factory=utc_now, description="When it was recorded.")

    def search_text(self) -> str:
        """Text indexed for keyword and vector search ('' for non-searchable nodes)."""
        return ""

    def event_time(self) -> datetime | None:
        """The moment in the user's life this node is about; used by time-window filters."""
        return None


class SearchableNode(Node):
    searchable: ClassVar[bool] = True
    embedding: list[float] | None = Field(
        default=None, description="Unit-normalised vector of search_text(); set by the writer.")


class User(Node):
    label: ClassVar[NodeLabel] = NodeLabel.USER
    name: str = Field(default="", max_length=200)
    profile: str = Field(default="", max_length=4000, description="Core profile summary.")


class ClaimedWork(BaseModel):
    """Who is running a node's memory work, until when: two processes over one store (two
    servers on one FalkorDB) never run the same work at once (``MemoryGraph.claim_work``).
    A claim past ``work_claim_until`` is stale (its process died) and may be taken over."""

    work_claim: str = Field(default="", max_length=200)
    work_claim_until: datetime | None = None

    def held_by_another(self, owner: str, now: datetime,
                        gone: Callable[[str], bool] | None = None) -> bool:
        """Whether another owner's claim is live: not past its lease, and its owner not
        known (``gone``) to have ended."""
        return bool(self.work_claim) and self.work_claim != owner \
            and self.work_claim_until is not None and self.work_claim_until > now \
            and not (gone is not None and gone(self.work_claim))


class Session(Node, ClaimedWork):
    label: ClassVar[NodeLabel] = NodeLabel.SESSION
    started_at: datetime
    ended_at: datetime | None = None
    summary: str = Field(default="", max_length=4000)
    consolidation_error: str = Field(default="", max_length=2000,
                                     description="Why the last consolidation failed.")
    consolidation_attempts: int = Field(default=0, ge=0)

    @property
    def consolidation(self) -> MemoryWorkState:
        """done (it has a summary), failed (the last attempt failed) or pending."""
        if self.summary:
            return "done"
        return "failed" if self.consolidation_error else "pending"

    def event_time(self) -> datetime | None:
        return self.started_at


class Turn(SearchableNode, ClaimedWork):
    """One raw utterance; the provenance anchor of every derived memory."""

    label: ClassVar[NodeLabel] = NodeLabel.TURN
    session_id: str
    role: Literal["user", "assistant"] = "user"
    speaker: str = Field(default="", max_length=200)
    text: str = Field(max_length=20_000)
    at: datetime
    seq: int = Field(default=0, ge=0, description="Position of the turn in its session.")
    image_captions: list[str] = Field(default_factory=list)
    answered: bool = Field(
        default=True, description="False while the reply to this user turn is being "
                                  "written: an exchange whose reply never came is removed "
                                  "whole (MemoryGraph.unanswered_turns).")
    memory_work: MemoryWorkState = Field(
        default="none", description="The turn's memory extraction: none (not asked for), "
                                    "pending, done, or failed (with memory_error).")
    memory_error: str = Field(default="", max_length=2000)
    memory_attempts: int = Field(default=0, ge=0)

    def search_text(self) -> str:
        prefix = f"{self.speaker}: " if self.speaker else ""
        photos = "".join(f" [shares a photo: {c}]" for c in self.image_captions if c)
        return f"{prefix}{self.text}{photos}"

    def event_time(self) -> datetime | None:
        return self.at


class Image(SearchableNode):
    label: ClassVar[NodeLabel] = NodeLabel.IMAGE
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    uri: str = Field(default="", max_length=2000)
    caption: str = Field(default="", max_length=4000)
    width: int = Field(default=0, ge=0)
    height: int = Field(default=0, ge=0)
    at: datetime | None = None

    def search_text(self) -> str:
        return self.caption

    def event_time(self) -> datetime | None:
        return self.at


class Entity(SearchableNode):
    label: ClassVar[NodeLabel] = NodeLabel.ENTITY
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="thing", max_length=40,
                      description="person, pet, place, object, activity, ...")
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(default="", max_length=4000)

    def search_text(self) -> str:
        names = ", ".join([self.name, *self.aliases])
        head = f"{names} ({self.kind})"
        return f"{head}: {self.summary}" if self.summary else head


class Event(SearchableNode):
    """An episodic topic of a session or a dated happening."""

    label: ClassVar[NodeLabel] = NodeLabel.EVENT
    summary: str = Field(min_length=1, max_length=4000)
    occurred_at: datetime
    kind: Literal["topic", "happening"] = "topic"

    def search_text(self) -> str:
        return self.summary

    def event_time(self) -> datetime | None:
        return self.occurred_at


class Routine(SearchableNode):
    """A procedural memory: a habit or a goal."""

    label: ClassVar[NodeLabel] = NodeLabel.ROUTINE
    description: str = Field(min_length=1, max_length=2000)
    kind: Literal["habit", "goal"] = "habit"
    updated_at: datetime = Field(default_factory=utc_now)
    valid_to: datetime | None = Field(
        default=None, description="When a later fact made this habit or goal untrue (closed "
                                  "in valid time, kept as history); None while it holds.")

    def search_text(self) -> str:
        return self.description

    def is_current(self) -> bool:
        return self.valid_to is None

    def event_time(self) -> datetime | None:
        return self.updated_at


class StoreItemRef(BaseModel):
    """A LangGraph store item's address and value, kept on the memory it became."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: list[str] = Field(max_length=8, description="The namespace after the user id.")
    key: str = Field(min_length=1, max_length=256)
    value_json: str = Field(max_length=MAX_STORED_VALUE_CHARS,
                            description="The value as it was put, as JSON.")


class Fact(SearchableNode):
    """A semantic memory stated in one turn: a fact, an explicit "remember this", or a
    visual concept seen in a shared photo. Linked to its turn (FROM_TURN), to the entities
    it is about (INVOLVES) and, for visual concepts, to the image."""

    label: ClassVar[NodeLabel] = NodeLabel.FACT
    statement: str = Field(min_length=1, max_length=2000)
    kind: Literal["fact", "remember", "visual"] = "fact"
    at: datetime
    valid_to: datetime | None = Field(
        default=None, description="When a later fact made this one untrue (closed in valid "
                                  "time, kept as history); None while it holds.")
    stored_as: StoreItemRef | None = Field(
        default=None, description="Where a memory put through the LangGraph store adapter "
                                  "(agent_memory.base_store) lives there; None for the "
                                  "memories the agent learned.")

    def search_text(self) -> str:
        return self.statement

    def is_current(self) -> bool:
        return self.valid_to is None

    def event_time(self) -> datetime | None:
        return self.at


class PersonalitySnapshot(Node):
    label: ClassVar[NodeLabel] = NodeLabel.PERSONALITY
    at: datetime
    interactions: int = Field(ge=0)
    openness: float = Field(ge=1, le=5)
    conscientiousness: float = Field(ge=1, le=5)
    extraversion: float = Field(ge=1, le=5)
    agreeableness: float = Field(ge=1, le=5)
    neuroticism: float = Field(ge=1, le=5)

    def event_time(self) -> datetime | None:
        return self.at


AnyNode = User | Session | Turn | Image | Entity | Event | Routine | Fact | PersonalitySnapshot

NODE_TYPES: dict[NodeLabel, type[Node]] = {
    cls.label: cls
    for cls in (User, Session, Turn, Image, Entity, Event, Routine, Fact, PersonalitySnapshot)
}
SEARCHABLE_LABELS: tuple[NodeLabel, ...] = tuple(
    label for label, cls in NODE_TYPES.items() if cls.searchable
)


class Edge(_Record):
    """A typed, directed, bi-temporal relation between two nodes of one user."""

    type: EdgeType
    user_id: UserId
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    key: str = Field(default="", max_length=200,
                     description="Disambiguates parallel edges of one type (e.g. a predicate).")
    predicate: str = Field(default="", max_length=200)
    fact: str = Field(default="", max_length=4000)
    strength: float = Field(default=1.0, ge=0, le=1)
    reason: str = Field(default="", max_length=4000)
    source_turns: list[str] = Field(
        default_factory=list, description="Turns this edge was derived from (for forgetting).")
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    recorded_at: datetime = Field(default_factory=utc_now)
    expired_at: datetime | None = None

    @property
    def id(self) -> str:
        return stable_id(self.type.value, self.source, self.target, self.key)

    def holds_at(self, moment: datetime) -> bool:
        """True when the fact held in the user's life at ``moment`` (valid time)."""
        moment = as_utc(moment)
        if self.valid_from is not None and self.valid_from > moment:
            return False
        return self.valid_to is None or self.valid_to > moment

    def is_current(self, at: datetime | None = None) -> bool:
        """Default read: valid now and not retired; with ``at``: what held at that time."""
        if at is not None:
            return self.holds_at(at)
        return self.expired_at is None and self.holds_at(utc_now())


def node_from_record(label: NodeLabel | str, record: dict[str, Any]) -> Node:
    """Rebuild a typed node from the flat property record a backend stored."""
    return NODE_TYPES[NodeLabel(label)].model_validate(record)
