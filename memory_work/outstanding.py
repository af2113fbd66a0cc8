"""The user's memory work still to do, and its state as ``personavlm status`` shows it.
Imports neither LangGraph nor LangChain nor a model (the command line's ``status`` starts
in about a second)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_runtime.context import Context
from memory_graph.graph import MemoryGraph
from memory_graph.schema import Session, Turn, utc_now

#: How often memory work is tried in all (at most once per pass of the worker, a ``sync``
#: or a session's end) before it is left failed, as ``status`` lists it.
MAX_ATTEMPTS = 3


@dataclass
class Outstanding:
    turns: list[Turn] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def in_order(self) -> list[Turn | Session]:
        """The work in the order it happened, wherever it runs (the worker, ``sync``, the
        server's runs): a turn at the time it was said, a session's consolidation when the
        session ended, after its own turns and before the turns of the sessions after it,
        as a new turn's work does it (``run_turn_and_previous_session``)."""
        def when(item: Turn | Session) -> tuple[datetime, int]:
            if isinstance(item, Turn):
                return item.at, 0
            return item.ended_at or item.started_at, 1
        return sorted([*self.turns, *self.sessions], key=when)


def needs_work(turn: Turn) -> bool:
    """Whether a user turn's memory work is still to do: pending, or failed fewer than
    ``MAX_ATTEMPTS`` times."""
    return turn.role == "user" and (turn.memory_work == "pending" or (
        turn.memory_work == "failed" and turn.memory_attempts < MAX_ATTEMPTS))


def outstanding(memory: MemoryGraph, ctx: Context, now: datetime | None = None,
                exclude_turn: str = "", exclude_session: str = "",
                idle: bool = False) -> Outstanding:
    """The user's memory work still to do: turns pending or failed (fewer than
    ``MAX_ATTEMPTS`` times), sessions finished but not consolidated (same bound). The last
    session is finished when it ended a session gap before ``now``, or when ``idle``.
    ``exclude_*``: the turn and session the caller's own work does."""
    user_id = ctx.user_id
    # With windows, the work that consolidates ``exclude_session`` extracts its waiting
    # turns first (``finish_windows``): queued here too, they would race it.
    windowed = exclude_session if ctx.extraction_mode == "turn" and \
        ctx.extraction_window > 1 else ""
    turns = [t for t in memory.turns_with_work(user_id, ("pending", "failed"))
             if t.id != exclude_turn and t.answered and needs_work(t)
             and not (windowed and t.session_id == windowed)]
    latest = memory.latest_session(user_id)
    gap = timedelta(minutes=ctx.session_gap_minutes)
    moment = now or utc_now()
    ongoing = latest.id if latest is not None and not (
        idle or (latest.ended_at or latest.started_at) + gap < moment) else ""
    due = [s for s in memory.unconsolidated_sessions(user_id)
           if s.id not in (ongoing, exclude_session)
           and s.consolidation_attempts < MAX_ATTEMPTS]
    return Outstanding(turns=turns, sessions=due)


def work_status(memory: MemoryGraph, ctx: Context, queued: int = 0,
                now: datetime | None = None) -> dict[str, Any]:
    """Counts of the user's turns by memory-work state and sessions by consolidation
    state, the failures with their errors, ``queued``: the jobs waiting in this process's
    worker, and ``running``: the work a process has claimed (which, until when)."""
    memory.user(ctx.user_id)
    user_turns = [t for t in memory.turns(ctx.user_id) if t.role == "user"]
    sessions = memory.sessions(ctx.user_id)
    work = outstanding(memory, ctx, now)
    turns: dict[str, int] = {}
    for turn in user_turns:
        turns[turn.memory_work] = turns.get(turn.memory_work, 0) + 1
    consolidation: dict[str, int] = {}
    for session in sessions:
        consolidation[session.consolidation] = consolidation.get(session.consolidation, 0) + 1
    moment = now or utc_now()
    claimable: list[Turn | Session] = [*user_turns, *sessions]
    claimed = [n for n in claimable if n.work_claim and n.work_claim_until is not None
               and n.work_claim_until > moment]
    return {
        "turns": turns, "sessions": consolidation,
        "outstanding": {"turns": len(work.turns), "sessions": len(work.sessions)},
        "queued in this process": queued,
        "running": [{"turn" if isinstance(n, Turn) else "session": n.id,
                     "by": n.work_claim, "until": n.work_claim_until.isoformat()}
                    for n in claimed if n.work_claim_until is not None],
        "failures": [{"turn": t.id, "at": t.at.isoformat(), "attempts": t.memory_attempts,
                      "error": t.memory_error} for t in user_turns
                     if t.memory_work == "failed"]
        + [{"session": s.id, "attempts": s.consolidation_attempts,
            "error": s.consolidation_error} for s in sessions if s.consolidation == "failed"],
    }
