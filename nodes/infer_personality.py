"""infer_personality: observe the Big Five in the user's recent messages, update the
profile with the paper's EMA schedule and keep every step as a ``PersonalitySnapshot``,
once per turn, as part of the turn's durable memory work (``nodes.memory_work``).

Two ways to observe (``Context.personality_inference``): ``markers`` (default) finds
trait marker phrases in the message itself, without a model call
(``nodes.trait_markers``): each message is evidence once, and the EMA gathers it over
time; ``model`` asks the chat model for the traits the session's last
``RECENT_USER_TURNS`` messages show, each with the user's words.
Measured on both in docs/results.md: the model found half the shown traits of the
scripted fixture; the markers find more, at no model call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from memory_graph.writes import PersonalityUpdate
from nodes.context import Context
from nodes.cost import CostMeter
from nodes.personality import Personality
from nodes.prompts import PERSONALITY_SHAPE, PERSONALITY_SYSTEM
from nodes.resources import ResourceProvider, Resources
from nodes.schemas import PersonalitySignals
from nodes.state import State, TurnInfo
from nodes.structured import StructuredOutputError, call_structured
from nodes.trait_markers import observe_markers

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


def update_personality(res: Resources, ctx: Context, turn: TurnInfo, meter: CostMeter
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


def observe_personality(res: Resources, ctx: Context, turn: TurnInfo, meter: CostMeter
                        ) -> Personality | None:
    """The turn's personality observation, once per turn (part of the turn's durable
    memory work); None when there is nothing to observe or it was observed already."""
    if not turn["text"]:
        return None
    with meter.store():
        if res.memory.personality_observed(ctx.user_id, turn["id"]):
            return None
    return update_personality(res, ctx, turn, meter)


class InferPersonality:
    """Observes the turn at once when that needs no model call (markers) or when memory
    work runs inline; otherwise the observation is part of the turn's durable memory work
    (``nodes.memory_work``), run in the background or by the server's run queue, and the
    reply uses the latest stored profile (one turn behind)."""

    def __init__(self, provider: ResourceProvider) -> None:
        self.provider = provider

    def __call__(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = self.provider.run_context(runtime)
        turn = state["turn"]
        if not turn["stored"] or not ctx.extract_memories or not turn["text"]:
            return {}
        if ctx.background_extraction and ctx.personality_inference == "model":
            return {}
        res = self.provider.resolve(ctx)
        meter = CostMeter()
        errors: list[str] = []
        update: dict[str, Any] = {}
        try:
            observe_personality(res.in_background(), ctx, turn, meter)
        except StructuredOutputError as exc:
            errors.append(f"{exc}; the personality is unchanged this turn")
        with meter.store():  # observed now, or by the turn's inline memory work before
            update["personality"] = Personality.latest(res.memory, ctx.user_id).as_dict()
        return {**update, "errors": errors, "cost": meter.as_dict()}
