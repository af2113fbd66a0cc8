"""infer_personality: the turn's personality observation at once when it needs no model
call (markers) or when memory work runs inline; otherwise it is part of the turn's durable
memory work (``memory_work.pipeline``), and the reply uses the latest stored profile (one
turn behind)."""

from __future__ import annotations

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from agent_runtime.structured import StructuredOutputError
from memory_work.personality import Personality
from memory_work.personality_observation import observe_personality
from nodes.node_run import NodeRun
from nodes.state import State, work_turn


def infer_personality(state: State, runtime: Runtime[Context], *,
                      provider: ResourceProvider) -> State:
    run = NodeRun.start(provider, runtime)
    ctx, turn = run.ctx, state["turn"]
    if not turn["stored"] or not ctx.extract_memories or not turn["text"]:
        return {}
    if ctx.background_extraction and ctx.personality_inference == "model":
        return {}
    observed: Personality | None = None
    try:
        observed = observe_personality(run.res.in_background(), ctx, work_turn(turn),
                                       run.meter)
    except StructuredOutputError as exc:
        run.error("model_output", f"{exc}; the personality is unchanged this turn")
    if observed is None:  # observed before (the turn's inline memory work), or failed
        with run.meter.store():
            observed = Personality.latest(run.res.memory, ctx.user_id)
    return run.finish({"personality": observed.as_dict()})
