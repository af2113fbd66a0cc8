"""Every outstanding piece of a user's memory work, run to completion now: ``personavlm
sync``, and the server's memory-work runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from memory_work.outstanding import outstanding
from memory_work.pipeline import CLAIMED_ELSEWHERE, run_session_work, run_turn_work
from memory_work.turns import stored_turn


def sync(res: Resources, ctx: Context, progress: Callable[[str], None] = print,
         now: datetime | None = None) -> dict[str, int]:
    """Run the user's outstanding memory work inline, to completion: every pending or
    retryable turn in the order said, then every finished session. ``progress`` is told
    which step runs, by time, never by text: the server logs it."""
    work = outstanding(res.memory, ctx, now)
    counts = {"turns done": 0, "turns failed": 0, "sessions done": 0, "sessions failed": 0,
              "claimed elsewhere": 0}
    turns = work.turns
    for number, turn in enumerate(turns, 1):
        progress(f"turn {number}/{len(turns)} of {turn.at:%Y-%m-%d %H:%M}")
        errors: list[str] = []
        report = run_turn_work(res.in_background(), ctx, stored_turn(res.memory, turn),
                               CostMeter(), errors)
        counts[_outcome("turns", report, errors)] += 1
    for number, session in enumerate(work.sessions, 1):
        progress(f"consolidate {number}/{len(work.sessions)}: session of "
                 f"{session.started_at:%Y-%m-%d %H:%M}")
        errors = []
        report = run_session_work(res.in_background(), ctx, session.id, CostMeter(), errors)
        counts[_outcome("sessions", report, errors)] += 1
    return counts


def _outcome(kind: str, report: dict[str, object], errors: list[str]) -> str:
    if report == CLAIMED_ELSEWHERE:
        return "claimed elsewhere"
    return f"{kind} failed" if errors or report.get("status") == "failed" else f"{kind} done"
