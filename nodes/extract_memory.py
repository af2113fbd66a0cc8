"""extract_memory: semantic memories of the turn and, at a session boundary, the
consolidation of the finished session — inline, or after the reply in the background."""

from __future__ import annotations

from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from nodes.consolidate import consolidate_session
from nodes.context import Context
from nodes.cost import CostMeter
from nodes.resources import ResourceProvider, Resources
from nodes.semantic import extract_turn_memories
from nodes.state import State, TurnInfo, replaying
from nodes.structured import StructuredOutputError


def extraction_job(res: Resources, ctx: Context, turn: TurnInfo, meter: CostMeter,
                   errors: list[str]) -> dict[str, Any]:
    """Consolidate the previous session when this turn opened a new one, then extract the
    turn's semantic memories. A failed model output is recorded, never swallowed: the raw
    turn stays stored and searchable either way."""
    report: dict[str, Any] = {}
    previous = turn["previous_session_id"]
    if previous:
        try:
            report["session"] = consolidate_session(res, ctx, previous, meter, errors)
        except StructuredOutputError as exc:
            errors.append(str(exc))
    if ctx.extraction_mode == "session":
        return report
    try:
        report["turn"] = extract_turn_memories(res, ctx, turn, meter, errors)
    except StructuredOutputError as exc:
        errors.append(str(exc))
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
        if ctx.background_extraction:
            res.worker.submit(ctx.user_id, "extract_memory",
                              partial(_background, res.in_background(), ctx, turn))
            return {"extraction": {"status": "background",
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
