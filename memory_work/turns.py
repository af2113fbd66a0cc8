"""What memory work needs of a user turn, whether the turn was just said (the agent's nodes
give it as ``nodes.state.work_turn`` of their ``TurnInfo``) or is read back from the store
(work resumed after the run that stored it is gone)."""

from __future__ import annotations

from typing_extensions import TypedDict

from memory_graph.graph import MemoryGraph
from memory_graph.schema import Turn


class WorkTurn(TypedDict):
    """A stored user turn, as memory work reads it."""

    id: str
    session_id: str
    at: str
    """When it was said (ISO 8601)."""
    text: str
    """What the user said ('' for a photo without words)."""
    speaker: str
    image_ids: list[str]
    """The turn's photos (for a turn read back: as the store lists its edges)."""
    captions: list[str]


def stored_turn(memory: MemoryGraph, turn: Turn) -> WorkTurn:
    """The work view of a stored turn, with its photos (a resumed turn's visual concepts
    are linked to them, as a turn extracted at once)."""
    return {"id": turn.id, "session_id": turn.session_id, "at": turn.at.isoformat(),
            "text": "" if turn.text == "[photo]" else turn.text, "speaker": turn.speaker,
            "image_ids": memory.turn_image_ids(turn.user_id, turn.id),
            "captions": list(turn.image_captions)}
