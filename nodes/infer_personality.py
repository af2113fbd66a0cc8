"""infer_personality: the turn's personality observation at once when it needs no model
call (markers) or when memory work runs inline; otherwise it is part of the turn's durable
memory work (``memory_work.pipeline``), and the reply uses the latest stored profile (one
turn behind)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider
from agent_runtime.structured import StructuredOutputError
from memory_work.personality import Personality
from memory_work.personality_observation import observe_personality
from nodes.state import State


class InferPersonality:
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
        observed: Personality | None = None
        try:
            observed = observe_personality(res.in_background(), ctx, turn, meter)
        except StructuredOutputError as exc:
            errors.append(f"{exc}; the personality is unchanged this turn")
        if observed is None:  # observed before (the turn's inline memory work), or failed
            with meter.store():
                observed = Personality.latest(res.memory, ctx.user_id)
        update["personality"] = observed.as_dict()
        return {**update, "errors": errors, "cost": meter.as_dict()}
