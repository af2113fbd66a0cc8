"""The personality observation of a turn: the Big Five in the user's recent messages, the
profile updated with the paper's EMA schedule, every step kept as a ``PersonalitySnapshot``,
once per turn.

Two ways to observe (``Context.personality_inference``): ``markers`` (default) finds
trait marker phrases in the message itself, without a model call
(``memory_work.trait_markers``): each message is evidence once, and the EMA gathers it
over time; ``model`` asks the chat model for the traits the session's last
``RECENT_USER_TURNS`` messages show, each with the user's words.
Measured on both in docs/results.md: the model found half the shown traits of the
scripted fixture; the markers find more, at no model call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import call_structured
from memory_graph.writes import PersonalityUpdate
from memory_work.model_outputs import PersonalitySignals
from memory_work.personality import Personality
from memory_work.prompts import PERSONALITY_SHAPE, PERSONALITY_SYSTEM
from memory_work.trait_markers import observe_markers
from memory_work.turns import WorkTurn

RECENT_USER_TURNS = 5


def observe_traits(chat: BaseChatModel, messages: Sequence[str], meter: CostMeter
                   ) -> dict[str, int]:
    """One observation of the Big Five (1-5, 3 where the messages show nothing) from the
    user's recent messages. A trait counts only with the user's words that show it: a
    small model asked for every trait's level calls neutral messages "high"."""
    dialogue = "\n".join(f"- {text}"[:400] for text in messages)
    signals = call_structured(chat, [
        SystemMessage(PERSONALITY_SYSTEM),
        HumanMessage(f"Recent messages of the user:\n{dialogue}"),
    ], PersonalitySignals, meter, "infer_personality", shape=PERSONALITY_SHAPE,
        max_tokens=160)
    return signals.scores(messages).model_dump()


def update_personality(res: Resources, ctx: Context, turn: WorkTurn, meter: CostMeter
                       ) -> Personality:
    memory = res.memory
    at = datetime.fromisoformat(turn["at"])
    with meter.store():
        current = Personality.latest(memory, ctx.user_id)
        if ctx.personality_inference == "markers":
            observed = observe_markers(turn["text"] or "").model_dump()
        else:
            turns = [t for t in memory.session_turns(ctx.user_id, turn["session_id"])
                     if t.role == "user"][-RECENT_USER_TURNS:]
    if ctx.personality_inference == "model":
        messages = [t.search_text() for t in turns] or [turn["text"]]
        observed = observe_traits(res.chat, messages, meter)
    updated = current.updated(observed, at)
    snapshot = updated.snapshot(ctx.user_id)
    with meter.store():
        memory.record_personality(ctx.user_id, PersonalityUpdate(snapshot, turn["id"]))
    return updated


def observe_personality(res: Resources, ctx: Context, turn: WorkTurn, meter: CostMeter
                        ) -> Personality | None:
    """The turn's personality observation, once per turn (part of the turn's durable
    memory work); None when there is nothing to observe or it was observed already."""
    if not turn["text"]:
        return None
    with meter.store():
        if res.memory.personality_observed(ctx.user_id, turn["id"]):
            return None
    return update_personality(res, ctx, turn, meter)
