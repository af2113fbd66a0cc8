"""The agent's state. ``InputState`` is what a caller sends per turn; ``State`` is what
every node reads and what a run returns (turn, memories with dates and provenance,
personality, reply, per-turn cost and errors). Per-turn fields are reset by ``perceive``,
so a LangGraph server thread can be reused turn after turn."""

from __future__ import annotations

from typing import Any, TypedDict


class InputState(TypedDict, total=False):
    text: str
    #: Paths, raw bytes, base64 strings, PIL images, or {"path"|"base64": ..., "caption": ...}.
    images: list[Any]
    #: When the user said it (ISO 8601 or "YYYY-MM-DD HH:MM"); default now.
    at: str
    #: Replaying a history: the reply that was given. Stored as is; nothing is generated
    #: and nothing retrieved, but memories and personality are extracted as usual.
    given_reply: str
    given_reply_speaker: str


class TurnInfo(TypedDict):
    id: str
    session_id: str
    at: str
    text: str
    speaker: str
    image_ids: list[str]
    captions: list[str]
    new_session: bool
    previous_session_id: str | None
    stored: bool


class RetrievedMemory(TypedDict):
    id: str
    label: str
    text: str
    date: str | None
    session_id: str | None
    provenance: list[str]
    score: float
    round: int
    query: str


class RetrievalState(TypedDict):
    round: int
    queries: list[dict[str, Any]]
    next: str


class State(InputState, total=False):
    turn: TurnInfo
    #: Snapshot of the user's profile, preferences and recent turns taken at perceive, so
    #: every model call of the turn sees the same prompt prefix (llama.cpp reuses its cache).
    background: dict[str, Any]
    memories: list[RetrievedMemory]
    retrieval: RetrievalState
    personality: dict[str, Any]
    extraction: dict[str, Any]
    reply: str
    cost: dict[str, Any]
    errors: list[str]


class OutputState(TypedDict, total=False):
    reply: str
    turn: TurnInfo
    memories: list[RetrievedMemory]
    retrieval: RetrievalState
    personality: dict[str, Any]
    extraction: dict[str, Any]
    cost: dict[str, Any]
    errors: list[str]
