"""Every outstanding piece of a user's memory work, run to completion now: ``personavlm
sync``, and the server's memory-work runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from memory_graph.schema import Turn
from memory_work.outstanding import outstanding
from memory_work.pipeline import (
    CLAIMED_ELSEWHERE,
    TURNS_ELSEWHERE,
    WAITING,
    run_session_work,
    run_turn_work,
)
from memory_work.turns import stored_turn


def sync(res: Resources, ctx: Context, progress: Callable[[str], None] = print,
         now: datetime | None = None, finish: bool = True, exclude_turn: str = "",
         exclude_session: str = "") -> dict[str, int]:
    """Run the user's outstanding memory work inline, in the order it happened
    (``Outstanding.in_order``): pending or retryable turns and finished sessions; with
    ``finish`` to completion, else turns wait for the rest of their extraction window
    (``Context.extraction_window``) as after a reply; ``exclude_*``: the work the caller
    does itself next (``outstanding``).
    ``progress`` is told which step runs, by time, never by text: the server logs it."""
    work = outstanding(res.memory, ctx, now, exclude_turn, exclude_session)
    counts = {"turns done": 0, "turns failed": 0, "turns waiting": 0, "sessions done": 0,
              "sessions failed": 0, "claimed elsewhere": 0}
    items = work.in_order()
    handled: set[str] = set()  # the turns of the windows extracted so far
    for number, item in enumerate(items, 1):
        errors: list[str] = []
        if isinstance(item, Turn):
            if item.id in handled:
                continue
            progress(f"{number}/{len(items)}: turn of {item.at:%Y-%m-%d %H:%M}")
            report = run_turn_work(res.in_background(), ctx, stored_turn(res.memory, item),
                                   CostMeter(), errors, finish, then_session=False)
            window = list(report.get("window", [item.id]))
            handled.update(window)
            counts[_outcome("turns", report, errors)] += len(window)
        else:
            progress(f"{number}/{len(items)}: session of {item.started_at:%Y-%m-%d %H:%M}")
            report = run_session_work(res.in_background(), ctx, item.id, CostMeter(), errors)
            counts[_outcome("sessions", report, errors)] += 1
    return counts


def _outcome(kind: str, report: dict[str, object], errors: list[str]) -> str:
    if report == CLAIMED_ELSEWHERE or report.get("status") == TURNS_ELSEWHERE:
        return "claimed elsewhere"
    if report.get("status") == WAITING["status"]:
        return "turns waiting"
    return f"{kind} failed" if errors or report.get("status") == "failed" else f"{kind} done"
