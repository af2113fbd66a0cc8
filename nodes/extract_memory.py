"""extract_memory: semantic memories of the turn and, at a session boundary, the
consolidation of the finished session — inline, or after the reply in the background."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from nodes.context import Context
from nodes.cost import CostMeter
from nodes.memory_work import resume, run_session_work, run_turn_work
from nodes.resources import ResourceProvider, Resources
from nodes.state import State, TurnInfo, replaying


def extraction_job(res: Resources, ctx: Context, turn: TurnInfo, meter: CostMeter,
                   errors: list[str]) -> dict[str, Any]:
    """Consolidate the previous session when this turn opened a new one, then extract the
    turn's semantic memories; the outcome of each is recorded in the store
    (``nodes.memory_work``). A failed model output is recorded, never swallowed: the raw
    turn stays stored and searchable either way."""
    report: dict[str, Any] = {}
    previous = turn["previous_session_id"]
    if previous:
        report["session"] = run_session_work(res, ctx, previous, meter, errors)
    if ctx.extraction_mode == "session":
        return report
    report["turn"] = run_turn_work(res, ctx, turn, meter, errors)
    return report


class ExtractMemory:
    def __init__(self, provider: ResourceProvider) -> None:
        self.provider = provider

    def __call__(self, state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        ctx = self.provider.run_context(runtime)
        turn = state["turn"]
        if not turn["stored"] or not ctx.extract_memories:
            return {"extraction": {"status": "off"}}
        res = self.provider.resolve(ctx)
        if ctx.background_extraction and self.provider.policy.queues_memory_work:
            return {"extraction": {"status": "queued"}}  # graphs.memory_queue, after reply
        resumed = resume(res, ctx, datetime.fromisoformat(turn["at"]), exclude_turn=turn["id"],
                         exclude_session=turn["previous_session_id"] or "")
        if ctx.background_extraction:
            res.worker.submit(ctx.user_id, "extract_memory",
                              partial(_background, res.in_background(), ctx, turn),
                              key=f"turn:{turn['id']}")
            return {"extraction": {"status": "background", "resumed": resumed,
                                   "pending": res.worker.pending(ctx.user_id)}}
        meter = CostMeter()
        errors: list[str] = []
        # Inline memory work runs on the memory-work context too, so it never evicts the
        # reply context's prompt cache (the decision and the reply share that prefix).
        report = extraction_job(res.in_background(), ctx, turn, meter, errors)
        return {"extraction": {"status": "inline", **report, "cost": meter.as_dict()},
                "cost": meter.as_dict(), "errors": errors}


def route_after_extract(state: State) -> str:
    """A replayed turn with its given reply needs no retrieval."""
    return "infer_personality" if replaying(state) else "retrieve"


def _background(res: Resources, ctx: Context, turn: TurnInfo) -> None:
    if not res.memory.has_turn(ctx.user_id, turn["id"]):
        return  # forgotten, or its exchange failed and was removed, before the work ran
    errors: list[str] = []
    extraction_job(res, ctx, turn, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))
