"""Memory work in this process (the command line, Python): the user's outstanding work
queued on the background worker after each turn, and the consolidation of the last
session after an idle gap. Served, none of it runs: the server's run queue does the work
(``graphs.memory_queue``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from memory_work.outstanding import outstanding
from memory_work.pipeline import run_session_work, run_turn_and_previous_session, run_turn_work
from memory_work.turns import WorkTurn, stored_turn


def resume(res: Resources, ctx: Context, now: datetime | None = None,
           exclude_turn: str = "", exclude_session: str = "", idle: bool = False) -> int:
    """Queue the user's outstanding memory work as of ``now`` on the background worker
    (work already queued in this process is not queued twice; ``exclude_*`` is the work
    the current turn does itself). Returns how many jobs were queued."""
    if not ctx.extract_memories:
        return 0
    work = outstanding(res.memory, ctx, now, exclude_turn, exclude_session, idle)
    queued = res.worker.queued_keys(ctx.user_id)
    jobs: list[tuple[str, Callable[[], object]]] = [
        (f"turn:{t.id}", partial(_background_turn, res.in_background(), ctx,
                                 stored_turn(res.memory, t))) for t in work.turns]
    jobs += [(f"session:{s.id}", partial(_background_session, res.in_background(), ctx, s.id))
             for s in work.sessions]
    fresh = [(key, job) for key, job in jobs if key not in queued]
    for key, job in fresh:
        res.worker.submit(ctx.user_id, key.split(":")[0], job, key=key)
    return len(fresh)


def queue_turn_work(res: Resources, ctx: Context, turn: WorkTurn, previous: str | None
                    ) -> None:
    """Queue a new turn's memory work (``run_turn_and_previous_session``) behind its reply."""
    res.worker.submit(ctx.user_id, "turn work",
                      partial(_background_new_turn, res.in_background(), ctx, turn, previous),
                      key=f"turn:{turn['id']}")


def schedule_idle_consolidation(res: Resources, ctx: Context) -> None:
    """After the session gap without a new turn (wall clock), queue the consolidation of
    the user's last session; a new turn of the user restarts the wait."""
    if ctx.extract_memories and ctx.update_memory:
        res.worker.schedule(ctx.user_id, ctx.session_gap_minutes * 60,
                            partial(resume, res, ctx, idle=True))


def _background_turn(res: Resources, ctx: Context, turn: WorkTurn) -> None:
    errors: list[str] = []
    run_turn_work(res, ctx, turn, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))


def _background_session(res: Resources, ctx: Context, session_id: str) -> None:
    errors: list[str] = []
    run_session_work(res, ctx, session_id, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))


def _background_new_turn(res: Resources, ctx: Context, turn: WorkTurn, previous: str | None
                         ) -> None:
    if not res.memory.has_turn(ctx.user_id, turn["id"]):
        return  # forgotten, or its exchange failed and was removed, before the work ran
    errors: list[str] = []
    run_turn_and_previous_session(res, ctx, turn, previous, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))
