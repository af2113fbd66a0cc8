"""Durable memory work: the work of each stored user turn (its semantic memories and its
personality observation) and the consolidation of each finished session, with their state
kept in the store (``Turn.memory_work``, ``Session.consolidation``), so nothing is lost
with the process.

A turn is stored ``pending``; its work marks it ``done`` or ``failed`` (with the error,
counting an attempt). The personality observation runs once per turn: a turn whose
estimate is stored already (the ``infer_personality`` node does it at once when it needs
no model call) is not observed again. A session needs consolidating once it is finished: a later
session exists, or it has been idle longer than the session gap. When the agent next runs
for a user, ``resume`` queues whatever is still outstanding (failed work at most
``MAX_ATTEMPTS`` times); ``sync`` runs it all to completion (``personavlm sync``);
``nodes.memory_view.work_status`` reports it (``personavlm status``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from memory_graph.schema import Turn
from nodes.consolidate import consolidate_session
from nodes.context import Context
from nodes.cost import CostMeter
from nodes.infer_personality import observe_personality
from nodes.memory_view import outstanding
from nodes.resources import Resources
from nodes.semantic import extract_turn_memories
from nodes.state import TurnInfo
from nodes.structured import StructuredOutputError


def turn_info(turn: Turn) -> TurnInfo:
    """What extraction needs of a stored turn (for work resumed after the run that stored
    it is gone)."""
    return {"id": turn.id, "session_id": turn.session_id, "at": turn.at.isoformat(),
            "text": "" if turn.text == "[photo]" else turn.text, "speaker": turn.speaker,
            "image_ids": [], "captions": list(turn.image_captions), "media": [],
            "new_session": False, "previous_session_id": None, "stored": True}


def run_turn_work(res: Resources, ctx: Context, turn: TurnInfo, meter: CostMeter,
                  errors: list[str]) -> dict[str, Any]:
    """A stored turn's memory work: its semantic memories (``extraction_mode`` turn) and
    its personality observation (unless stored already); the outcome is recorded in the
    store."""
    if not res.memory.has_turn(ctx.user_id, turn["id"]):
        return {"status": "forgotten"}
    before = len(errors)
    report: dict[str, Any] = {}
    if ctx.extraction_mode == "turn":
        try:
            report = extract_turn_memories(res, ctx, turn, meter, errors)
        except StructuredOutputError as exc:
            errors.append(str(exc))
    try:
        observe_personality(res, ctx, turn, meter)
    except StructuredOutputError as exc:
        errors.append(f"{exc}; the personality is unchanged this turn")
    failed = "; ".join(errors[before:])
    with meter.store():
        res.memory.mark_turn_work(ctx.user_id, turn["id"], "failed" if failed else "done",
                                  failed)
    return report


def run_session_work(res: Resources, ctx: Context, session_id: str, meter: CostMeter,
                     errors: list[str]) -> dict[str, Any]:
    """Consolidate a finished session and record a failure in the store."""
    try:
        return consolidate_session(res, ctx, session_id, meter, errors)
    except StructuredOutputError as exc:
        errors.append(str(exc))
        with meter.store():
            res.memory.mark_consolidation_failed(ctx.user_id, session_id, str(exc))
        return {"status": "failed"}


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
        (f"turn:{t.id}", partial(_background_turn, res.in_background(), ctx, turn_info(t)))
        for t in work.turns]
    jobs += [(f"session:{s.id}", partial(_background_session, res.in_background(), ctx, s.id))
             for s in work.sessions]
    fresh = [(key, job) for key, job in jobs if key not in queued]
    for key, job in fresh:
        res.worker.submit(ctx.user_id, key.split(":")[0], job, key=key)
    return len(fresh)


def schedule_idle_consolidation(res: Resources, ctx: Context) -> None:
    """After the session gap without a new turn (wall clock), queue the consolidation of
    the user's last session; a new turn of the user restarts the wait."""
    if ctx.extract_memories and ctx.update_memory:
        res.worker.schedule(ctx.user_id, ctx.session_gap_minutes * 60,
                            partial(resume, res, ctx, idle=True))


def _background_turn(res: Resources, ctx: Context, turn: TurnInfo) -> None:
    errors: list[str] = []
    run_turn_work(res, ctx, turn, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))


def _background_session(res: Resources, ctx: Context, session_id: str) -> None:
    errors: list[str] = []
    run_session_work(res, ctx, session_id, CostMeter(), errors)
    if errors:
        raise RuntimeError("; ".join(errors))


def sync(res: Resources, ctx: Context, progress: Callable[[str], None] = print,
         now: datetime | None = None) -> dict[str, int]:
    """Run the user's outstanding memory work inline, to completion: every pending or
    retryable turn in the order said, then every finished session. ``progress`` is told
    which step runs, by time, never by text: the server logs it."""
    work = outstanding(res.memory, ctx, now)
    counts = {"turns done": 0, "turns failed": 0, "sessions done": 0, "sessions failed": 0}
    turns = work.turns
    for number, turn in enumerate(turns, 1):
        progress(f"turn {number}/{len(turns)} of {turn.at:%Y-%m-%d %H:%M}")
        errors: list[str] = []
        run_turn_work(res.in_background(), ctx, turn_info(turn), CostMeter(), errors)
        counts["turns failed" if errors else "turns done"] += 1
    for number, session in enumerate(work.sessions, 1):
        progress(f"consolidate {number}/{len(work.sessions)}: session of "
                 f"{session.started_at:%Y-%m-%d %H:%M}")
        errors = []
        report = run_session_work(res.in_background(), ctx, session.id, CostMeter(), errors)
        failed = errors or report.get("status") == "failed"
        counts["sessions failed" if failed else "sessions done"] += 1
    return counts


