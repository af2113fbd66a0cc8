"""Durable memory work: the work of each stored user turn (its semantic memories and its
personality observation) and the consolidation of each finished session, with their state
kept in the store (``Turn.memory_work``, ``Session.consolidation``), so nothing is lost
with the process.

A turn is stored ``pending``; its work marks it ``done`` or ``failed`` (with the error,
counting an attempt). The personality observation runs once per turn: a turn whose
estimate is stored already (the ``infer_personality`` node does it at once when it needs
no model call) is not observed again. A session needs consolidating once it is finished: a
later session exists, or it has been idle longer than the session gap
(``memory_work.outstanding``). Who runs the work: ``memory_work.in_process`` (the command
line and Python), the server's run queue (``graphs.memory_queue``) through
``memory_work.sync``, never both (``RunPolicy.queues_memory_work``).
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import Any

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import StructuredOutputError
from memory_work.consolidate import consolidate_session
from memory_work.personality_observation import observe_personality
from memory_work.turn_memories import extract_turn_memories
from memory_work.turns import WorkTurn

#: How long a claim on a turn's or a session's work holds before another process may take
#: it over (a process that died mid-work leaves its claim behind).
WORK_LEASE = timedelta(minutes=15)
CLAIMED_ELSEWHERE = {"status": "claimed elsewhere"}


def claim_owner() -> str:
    """This thread of this process, as the owner of the memory work it claims: two runs of
    one server (its memory-work run and a client's ``sync``) are two owners too."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def ended_here(owner: str) -> bool:
    """Whether a claim's owner was a process of this host that has ended (a server killed
    mid-work and restarted: its claims need not wait out their lease)."""
    host, pid, _thread = [*owner.rsplit(":", 2), "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def claim(res: Resources, ctx: Context, node_id: str) -> bool:
    return res.memory.claim_work(ctx.user_id, node_id, claim_owner(), WORK_LEASE,
                                 gone=ended_here)


def run_turn_work(res: Resources, ctx: Context, turn: WorkTurn, meter: CostMeter,
                  errors: list[str]) -> dict[str, Any]:
    """A stored turn's memory work: its semantic memories (``extraction_mode`` turn) and
    its personality observation (unless stored already); the outcome is recorded in the
    store. Work that another process has claimed is left to it."""
    if not res.memory.has_turn(ctx.user_id, turn["id"]):
        return {"status": "forgotten"}
    with meter.store():
        if not claim(res, ctx, turn["id"]):
            return dict(CLAIMED_ELSEWHERE)
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
    """Consolidate a finished session and record a failure in the store (unless another
    process has claimed it)."""
    with meter.store():
        if not claim(res, ctx, session_id):
            return dict(CLAIMED_ELSEWHERE)
    try:
        return consolidate_session(res, ctx, session_id, meter, errors)
    except StructuredOutputError as exc:
        errors.append(str(exc))
        with meter.store():
            res.memory.mark_consolidation_failed(ctx.user_id, session_id, str(exc))
        return {"status": "failed"}


def run_turn_and_previous_session(res: Resources, ctx: Context, turn: WorkTurn,
                                  previous: str | None, meter: CostMeter,
                                  errors: list[str]) -> dict[str, Any]:
    """The memory work a new turn brings: the consolidation of the session it follows, when
    it opened a new one, then the turn's own work; the outcome of each is recorded in the
    store. A failed model output is recorded, never swallowed: the raw turn stays stored
    and searchable either way."""
    report: dict[str, Any] = {}
    if previous:
        report["session"] = run_session_work(res, ctx, previous, meter, errors)
    report["turn"] = run_turn_work(res, ctx, turn, meter, errors)
    return report
