"""extract_memory: the turn's memory work (``memory_work``) and, at a session boundary,
the consolidation of the finished session — inline, or queued to run after the reply (on
this process's worker, or served, on the server's run queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from memory_work.in_process import queue_turn_work, resume
from memory_work.pipeline import run_turn_and_previous_session
from memory_work.sync import sync
from nodes.node_run import NodeRun
from nodes.state import Extraction, State, replaying, work_turn


def extract_memory(state: State, runtime: Runtime[Context], *, provider: ResourceProvider
                   ) -> State:
    run = NodeRun.start(provider, runtime)
    ctx, turn = run.ctx, state["turn"]
    if not turn["stored"] or not ctx.extract_memories:
        return {"extraction": {"status": "off"}}
    served = provider.policy.queues_memory_work
    if ctx.background_extraction and served:
        return {"extraction": {"status": "queued"}}  # nodes.queue_memory_work, after reply
    at = datetime.fromisoformat(turn["at"])
    previous = turn["previous_session_id"] or ""
    if ctx.background_extraction:
        # Older outstanding work goes on the worker too, in the order it happened.
        resumed = 0 if served else resume(run.res, ctx, at, exclude_turn=turn["id"],
                                          exclude_session=previous)
        queue_turn_work(run.res, ctx, work_turn(turn), turn["previous_session_id"])
        return {"extraction": {"status": "background", "resumed": resumed,
                               "pending": run.res.worker.pending(ctx.user_id)}}
    # Inline, all of it runs here, in order: older outstanding work (served, that is the
    # run queue's), then the turn's. Never also on the worker, which would race it. It
    # runs on the memory-work context, so it never evicts the reply's prompt cache.
    background = run.res.in_background()
    earlier = {} if served else sync(background, ctx, lambda _step: None, at, finish=False,
                                     exclude_turn=turn["id"], exclude_session=previous)
    errors: list[str] = []
    report = run_turn_and_previous_session(background, ctx, work_turn(turn),
                                           turn["previous_session_id"], run.meter, errors)
    run.errors_of("memory_work", errors)
    extraction: Extraction = {"status": "inline", "earlier": earlier}
    if "session" in report:
        extraction["session"] = report["session"]
    extraction["turn"] = report["turn"]
    extraction["cost"] = run.meter.as_dict()
    return run.finish({"extraction": extraction})


def route_after_extract(state: State) -> Literal["retrieve", "infer_personality"]:
    """A replayed turn with its given reply needs no retrieval."""
    return "infer_personality" if replaying(state) else "retrieve"
