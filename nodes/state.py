"""The agent's state. ``InputState`` is what a caller sends per turn; ``State`` is what
every node reads and what a run returns (turn, memories with dates and provenance,
personality, reply, per-turn cost and errors). ``cost``, ``errors`` and ``memories`` have
reducers: nodes return only what they add. ``perceive`` resets every per-turn field at the
start of a turn (``Overwrite`` bypasses the reducers), so a LangGraph server thread can be
reused turn after turn."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from nodes.cost import merge_costs


class InputState(TypedDict, total=False):
    text: str
    #: Paths, raw bytes, base64 strings, PIL images, or {"path"|"base64": ..., "caption": ...}.
    images: list[Any]
    #: When the user said it (ISO 8601 or "YYYY-MM-DD HH:MM"); default now.
    at: str
    #: Replaying a history: the reply that was given. Stored as is (nothing when empty);
    #: nothing is generated and nothing retrieved, but memories and personality are
    #: extracted as usual (unless ``extract_memories`` is off: then no model call at all).
    given_reply: str
    given_reply_speaker: str


class MediaRef(TypedDict):
    """A photo of the turn in the media store: how nodes after perceive reach its bytes
    (``MediaStore.load``) without decoding the run's input again."""
    image_id: str
    sha256: str
    suffix: str
    mime: str
    #: Saved for this turn only (memory updates off): removed after the reply.
    transient: bool


class TurnInfo(TypedDict):
    id: str
    session_id: str
    at: str
    text: str
    speaker: str
    image_ids: list[str]
    captions: list[str]
    media: list[MediaRef]
    new_session: bool
    previous_session_id: str | None
    stored: bool


class RetrievedMemory(TypedDict):
    id: str
    label: str
    #: As shown in the prompt: "[date] content".
    text: str
    #: The memory without its date.
    content: str
    date: str | None
    session_id: str | None
    provenance: list[str]
    score: float
    round: int
    query: str
    #: The search signals that found it: keyword, vector, neighbourhood (the graph).
    found_by: list[str]


class RetrievalState(TypedDict):
    round: int
    queries: list[dict[str, Any]]
    next: str


def replaying(state: InputState) -> bool:
    """Whether this turn replays a history (a reply was given, even an empty one)."""
    return state.get("given_reply") is not None


def add_errors(left: list[str], right: list[str]) -> list[str]:
    """Reducer of ``errors``: every node's errors, in the order they happened."""
    return [*left, *right]


def add_memories(left: list[RetrievedMemory], right: list[RetrievedMemory]
                 ) -> list[RetrievedMemory]:
    """Reducer of ``memories``: the new ones after the old, none twice (by node id, or by
    content: the same fact recorded on two days is shown once)."""
    merged = list(left)
    ids = {m["id"] for m in merged}
    contents = {m["content"] for m in merged}
    for memory in right:
        if memory["id"] not in ids and memory["content"] not in contents:
            merged.append(memory)
            ids.add(memory["id"])
            contents.add(memory["content"])
    return merged


class State(InputState, total=False):
    turn: TurnInfo
    #: Snapshot of the user's profile, preferences and recent turns taken at perceive, so
    #: every model call of the turn sees the same prompt prefix (llama.cpp reuses its cache).
    background: dict[str, Any]
    memories: Annotated[list[RetrievedMemory], add_memories]
    retrieval: RetrievalState
    personality: dict[str, Any]
    extraction: dict[str, Any]
    reply: str
    cost: Annotated[dict[str, Any], merge_costs]
    errors: Annotated[list[str], add_errors]


class OutputState(TypedDict, total=False):
    reply: str
    turn: TurnInfo
    memories: list[RetrievedMemory]
    retrieval: RetrievalState
    personality: dict[str, Any]
    extraction: dict[str, Any]
    cost: dict[str, Any]
    errors: list[str]
