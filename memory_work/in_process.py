"""Memory work in this process (the command line, Python): the user's outstanding work
queued on the background worker after each turn, and the consolidation of the last
session after an idle gap. Served, none of it runs: the server's run queue does the work
(``nodes.queue_memory_work``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from memory_graph.schema import Turn
from memory_work.outstanding import outstanding
from memory_work.pipeline import run_session_work, run_turn_and_previous_session, run_turn_work
from memory_work.turns import WorkTurn, stored_turn


def resume(res: Resources, ctx: Context, now: datetime | None = None,
           exclude_turn: str = "", exclude_session: str = "", idle: bool = False) -> int:
    """Queue the user's outstanding memory work as of ``now`` on the background worker,
    in the order it happened (work already queued in this process is not queued twice;
    ``exclude_*`` is the work the current turn does itself). Returns how many jobs were
    queued."""
    if not ctx.extract_memories:
        return 0
    work = outstanding(res.memory, ctx, now, exclude_turn, exclude_session, idle)
    queued = res.worker.queued_keys(ctx.user_id)
    fresh = 0
    for item in work.in_order():
        key = f"{'turn' if isinstance(item, Turn) else 'session'}:{item.id}"
        if key in queued:
            continue
        if isinstance(item, Turn):
            job = _job(res, ctx, partial(_turn_work, stored_turn(res.memory, item)))
        else:
            job = _job(res, ctx, partial(_session_work, item.id))
        res.worker.submit(ctx.user_id, key.split(":")[0], job, key=key)
        fresh += 1
    return fresh


def queue_turn_work(res: Resources, ctx: Context, turn: WorkTurn, previous: str | None
                    ) -> None:
    """Queue a new turn's memory work (``run_turn_and_previous_session``) behind its reply."""
    res.worker.submit(ctx.user_id, "turn work",
                      _job(res, ctx, partial(_new_turn_work, turn, previous)),
                      key=f"turn:{turn['id']}")


def schedule_idle_consolidation(res: Resources, ctx: Context) -> None:
    """After the session gap without a new turn (wall clock), queue the consolidation of
    the user's last session; a new turn of the user restarts the wait."""
    if ctx.extract_memories and ctx.update_memory:
        res.worker.schedule(ctx.user_id, ctx.session_gap_minutes * 60,
                            partial(resume, res, ctx, idle=True))


Work = Callable[[Resources, Context, CostMeter, list[str]], object]


def _job(res: Resources, ctx: Context, work: Work) -> Callable[[], None]:
    """A worker job running ``work`` on the memory-work model context; its errors are
    raised, so the worker reports them at the user's next turn."""
    background = res.in_background()

    def run() -> None:
        errors: list[str] = []
        work(background, ctx, CostMeter(), errors)
        if errors:
            raise RuntimeError("; ".join(errors))
    return run


def _turn_work(turn: WorkTurn, res: Resources, ctx: Context, meter: CostMeter,
               errors: list[str]) -> object:
    return run_turn_work(res, ctx, turn, meter, errors)


def _session_work(session_id: str, res: Resources, ctx: Context, meter: CostMeter,
                  errors: list[str]) -> object:
    return run_session_work(res, ctx, session_id, meter, errors)


def _new_turn_work(turn: WorkTurn, previous: str | None, res: Resources, ctx: Context,
                   meter: CostMeter, errors: list[str]) -> object:
    if res.memory.turn_work_state(ctx.user_id, turn["id"]) is None:
        return None  # forgotten, or its exchange failed and was removed, before it ran
    return run_turn_and_previous_session(res, ctx, turn, previous, meter, errors)
