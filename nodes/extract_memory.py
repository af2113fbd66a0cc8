"""extract_memory: the turn's memory work (``memory_work``) and, at a session boundary,
the consolidation of the finished session — inline, or queued to run after the reply (on
this process's worker, or served, on the server's run queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider
from memory_work.in_process import queue_turn_work, resume
from memory_work.pipeline import run_turn_and_previous_session
from memory_work.sync import sync
from nodes.state import State, replaying


class ExtractMemory:
    def __init__(self, provider: ResourceProvider) -> None:
        self.provider = provider

    def __call__(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = self.provider.run_context(runtime)
        turn = state["turn"]
        if not turn["stored"] or not ctx.extract_memories:
            return {"extraction": {"status": "off"}}
        res = self.provider.resolve(ctx)
        served = self.provider.policy.queues_memory_work
        if ctx.background_extraction and served:
            return {"extraction": {"status": "queued"}}  # nodes.queue_memory_work, after reply
        at = datetime.fromisoformat(turn["at"])
        previous = turn["previous_session_id"] or ""
        if ctx.background_extraction:
            # Older outstanding work goes on the worker too, in the order it happened.
            resumed = 0 if served else resume(res, ctx, at, exclude_turn=turn["id"],
                                              exclude_session=previous)
            queue_turn_work(res, ctx, turn, turn["previous_session_id"])
            return {"extraction": {"status": "background", "resumed": resumed,
                                   "pending": res.worker.pending(ctx.user_id)}}
        # Inline, all of it runs here, in order: older outstanding work (served, that is
        # the run queue's), then the turn's. Never also on the worker, which would race it.
        # It runs on the memory-work context, so it never evicts the reply's prompt cache.
        background = res.in_background()
        earlier = {} if served else sync(background, ctx, lambda _step: None, at, finish=False,
                                         exclude_turn=turn["id"], exclude_session=previous)
        meter = CostMeter()
        errors: list[str] = []
        report = run_turn_and_previous_session(background, ctx, turn,
                                               turn["previous_session_id"], meter, errors)
        return {"extraction": {"status": "inline", "earlier": earlier, **report,
                               "cost": meter.as_dict()},
                "cost": meter.as_dict(), "errors": errors}


def route_after_extract(state: State) -> str:
    """A replayed turn with its given reply needs no retrieval."""
    return "infer_personality" if replaying(state) else "retrieve"
