"""The agent's state. ``InputState`` is what a caller sends per turn; ``State`` is what
every node reads; ``OutputState`` is what a run returns (turn, memories with dates and
provenance, personality, reply, per-turn cost and errors). ``cost``, ``errors`` and
``memories`` have reducers: nodes return only what they add. ``perceive`` resets every
per-turn field at the start of a turn (``Overwrite`` bypasses the reducers), so a
LangGraph server thread can be reused turn after turn.

A run's input (``text``, ``images``, ``at``, a given reply) lasts one step
(``EphemeralValue``): ``perceive`` reads it, and it leaves the thread after that step, or,
when ``perceive`` failed, as the thread's next run starts (LangGraph discards the failed
step then), so a later run never reads what a failed run was given. ``replay`` keeps a
given reply for the nodes after ``perceive``.

Every field has a docstring: LangGraph's schemas (Studio's input form, the server's
``/assistants/{id}/schemas``) show them as descriptions. ``typing_extensions.TypedDict``
because pydantic cannot read ``typing.TypedDict`` on Python < 3.12."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.channels import EphemeralValue
from langgraph.graph.message import add_messages
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from agent_runtime.cost import Cost, merge_costs
from memory_work.personality import PersonalityEstimate
from memory_work.turns import WorkTurn

DESCRIBED = ConfigDict(use_attribute_docstrings=True)


@with_config(DESCRIBED)
class InputState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation of this thread (LangGraph chat messages): a new last user message
    is this turn, read when no text is given; its image content blocks are its photos. The
    reply is appended."""
    text: Annotated[str, EphemeralValue]
    """What the user says this turn."""
    images: Annotated[list[Any], EphemeralValue]
    """Photos the user shares: base64 text, data URLs or {"base64": ..., "caption": ...};
    in-process callers may also pass paths, bytes or PIL images."""
    at: Annotated[str, EphemeralValue]
    """When the user said it (ISO 8601 or "YYYY-MM-DD HH:MM"); default now."""
    given_reply: Annotated[str, EphemeralValue]
    """Replaying a history: the reply that was given. Stored as is (nothing when empty);
    nothing is generated and nothing retrieved, but memories and personality are extracted
    as usual (unless extract_memories is off: then no model call at all)."""
    given_reply_speaker: Annotated[str, EphemeralValue]
    """Replaying a history: who gave the reply (default: the assistant's name)."""


@with_config(DESCRIBED)
class MediaRef(TypedDict):
    """A photo of the turn in the media store: how nodes after perceive reach its bytes
    (``MediaStore.load``) without decoding the run's input again."""
    image_id: str
    """The Image node's id."""
    sha256: str
    """SHA-256 of the stored bytes (the file's name in the media store)."""
    suffix: str
    """.png or .jpg."""
    mime: str
    """image/png or image/jpeg."""
    transient: bool
    """Saved for this turn only (memory updates off): removed after the reply."""


@with_config(DESCRIBED)
class TurnInfo(TypedDict):
    """The stored user turn of this run."""
    id: str
    """The turn's id (what forget --turn takes)."""
    session_id: str
    """The session the turn belongs to."""
    at: str
    """When it was said (ISO 8601)."""
    text: str
    """What the user said."""
    speaker: str
    """The user's name as the assistant calls them."""
    image_ids: list[str]
    """Ids of the photos shared in the turn."""
    captions: list[str]
    """The photos' captions (given, or described by a vision model)."""
    media: list[MediaRef]
    """Where the turn's photos are in the media store."""
    new_session: bool
    """Whether this turn opened a new session."""
    previous_session_id: str | None
    """The session this turn's new session follows, if any."""
    stored: bool
    """Whether the turn was stored (update_memory)."""


@with_config(DESCRIBED)
class RetrievedMemory(TypedDict):
    """A memory the reply prompt showed."""
    id: str
    """The memory's node (or preference edge) id."""
    label: str
    """Its kind: Turn, Fact, Event, Routine, Image, Entity or Preference."""
    text: str
    """As shown in the prompt: "[date] content"."""
    content: str
    """The memory without its date."""
    date: str | None
    """When it happened or was said (ISO 8601), if known."""
    session_id: str | None
    """The session it comes from, if any."""
    provenance: list[str]
    """Ids of the turns it was learned from."""
    score: float
    """Its hybrid search score."""
    round: int
    """The retrieval round that found it (1 = first)."""
    query: str
    """The search words of that round."""
    found_by: list[str]
    """The search signals that found it: keyword, vector, neighbourhood (the graph)."""


@with_config(DESCRIBED)
class RetrievalQuery(TypedDict):
    """One round's search."""
    keywords: str
    """The search words."""
    start: str | None
    """The first day of its time window (ISO 8601), if it has one."""
    end: str | None
    """The last day of its time window, if it has one."""


@with_config(DESCRIBED)
class RetrievalState(TypedDict):
    """How retrieval went this turn."""
    round: int
    """Rounds run so far."""
    queries: list[RetrievalQuery]
    """Each round's search words and time window."""
    next: Literal["retrieve", "answer"]
    """The step after the last round: retrieve again or answer."""


@with_config(DESCRIBED)
class RecentTurn(TypedDict):
    """A turn of the conversation before this one, quoted in the reply prompt."""
    role: Literal["user", "assistant"]
    """Who said it."""
    text: str
    """What was said."""
    at: str | None
    """When (ISO 8601); None for a thread's message, which has no time."""
    id: str
    """The stored turn's or the message's id."""


@with_config(DESCRIBED)
class Background(TypedDict):
    """What every model call of the turn sees before the user's message, taken once at
    perceive so the prompt prefix is the same for all of them (llama.cpp reuses its cache)."""
    profile: str
    """The user's core profile."""
    preferences: str
    """The user's likes and dislikes, a line each."""
    recent: list[RecentTurn]
    """The conversation before this turn."""


@with_config(DESCRIBED)
class Extraction(TypedDict, total=False):
    """The memory extraction of a turn: where it ran and what it did."""
    status: Literal["off", "queued", "background", "inline"]
    """Off (not stored, or extraction off); queued on the server's run queue; on this
    process's background worker; or done in the turn."""
    resumed: int
    """Background: earlier outstanding turns queued again before this one."""
    pending: int
    """Background: the user's jobs waiting on the worker."""
    earlier: dict[str, int]
    """Inline: the outstanding work done before this turn's."""
    turn: dict[str, Any]
    """Inline: what this turn's memory work stored."""
    session: dict[str, Any]
    """Inline: what the consolidation of the session this turn closed stored."""
    cost: Cost
    """Inline: the model calls and time of the memory work."""


ErrorKind = Literal["memory_work", "model_output", "model_call", "photo", "unanswered",
                    "time_window"]


@with_config(DESCRIBED)
class TurnError(TypedDict):
    """Something that went wrong without stopping the turn."""
    kind: ErrorKind
    """memory_work (this turn's or an earlier turn's memory work failed), model_output (a
    model's structured answer was unusable: the step went on without it), model_call (a
    model call failed), photo (a photo was stored without a description), unanswered (an
    earlier message that got no reply was removed), time_window (a search's dates were
    ignored)."""
    message: str
    """What happened, in words."""


@with_config(DESCRIBED)
class GivenReply(TypedDict):
    """A reply given with the turn (replaying a history)."""
    text: str
    """The reply as given."""
    speaker: str
    """Who gave it (empty: the assistant)."""


def work_turn(turn: TurnInfo) -> WorkTurn:
    """The stored turn as memory work takes it (``memory_work.turns``): memory work never
    reads the graph's state."""
    return {"id": turn["id"], "session_id": turn["session_id"], "at": turn["at"],
            "text": turn["text"], "speaker": turn["speaker"],
            "image_ids": list(turn["image_ids"]), "captions": list(turn["captions"])}


def replaying(state: State) -> bool:
    """Whether this turn replays a history (a reply was given, even an empty one)."""
    return state.get("replay") is not None


def error_text(error: TurnError) -> str:
    """An error as one line: its kind, then what happened."""
    return f"{error['kind']}: {error['message']}"


def add_errors(left: list[TurnError], right: list[TurnError]) -> list[TurnError]:
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


@with_config(DESCRIBED)
class State(InputState, total=False):
    turn: TurnInfo
    """The stored user turn of this run."""
    replay: GivenReply | None
    """The reply given with this turn (``given_reply``, read by perceive); None when the
    reply is generated."""
    background: Background
    """Snapshot of the user's profile, preferences and recent turns taken at perceive, so
    every model call of the turn sees the same prompt prefix (llama.cpp reuses its cache)."""
    memories: Annotated[list[RetrievedMemory], add_memories]
    """The memories the reply prompt showed, in the order found."""
    retrieval: RetrievalState
    """How retrieval went: rounds, search words, time windows."""
    personality: PersonalityEstimate
    """The user's Big Five estimate (1-5) after this turn, with its description."""
    extraction: Extraction
    """What memory extraction did with this turn (off, inline report, background, queued)."""
    reply: str
    """The assistant's reply."""
    cost: Annotated[Cost, merge_costs]
    """Model calls, tokens and seconds this turn, per step."""
    errors: Annotated[list[TurnError], add_errors]
    """Errors of this turn and of earlier background memory work, in order."""


@with_config(DESCRIBED)
class OutputState(TypedDict, total=False):
    messages: list[AnyMessage]
    """The conversation of this thread, the reply last."""
    reply: str
    """The assistant's reply."""
    turn: TurnInfo
    """The stored user turn of this run (its id is what forget --turn takes)."""
    memories: list[RetrievedMemory]
    """The memories the reply prompt showed, with dates and provenance."""
    retrieval: RetrievalState
    """How retrieval went: rounds, search words, time windows."""
    personality: PersonalityEstimate
    """The user's Big Five estimate (1-5) after this turn, with its description."""
    extraction: Extraction
    """What memory extraction did with this turn."""
    cost: Cost
    """Model calls, tokens and seconds this turn, per step."""
    errors: list[TurnError]
    """Errors of this turn and of earlier background memory work."""
