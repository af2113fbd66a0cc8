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
line and Python), the server's run queue (``nodes.queue_memory_work``) through
``memory_work.sync``, never both (``RunPolicy.queues_memory_work``).
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import StructuredOutputError
from memory_graph.errors import InvalidInputError
from memory_graph.graph import MemoryGraph
from memory_graph.schema import Turn, utc_now
from memory_work.consolidate import consolidate_session
from memory_work.outstanding import needs_work
from memory_work.personality_observation import observe_personality
from memory_work.turn_memories import read_window, write_turn_memories
from memory_work.turns import WorkTurn, stored_turn

#: How long a claim on a turn's or a session's work holds before another process may take
#: it over (a process that died mid-work leaves its claim behind).
WORK_LEASE = timedelta(minutes=15)
CLAIMED_ELSEWHERE = {"status": "claimed elsewhere"}
#: A turn whose extraction waits for the rest of its window.
WAITING = {"status": "waiting for its window"}
#: A session some of whose turns another owner is extracting now (it consolidates next).
TURNS_ELSEWHERE = "waiting for its turns' extraction elsewhere"


def this_host() -> str:
    """Where this process's pids mean something: the host name and, on Linux, the boot and
    the pid namespace (two containers may share a host name, and each numbers its own
    processes)."""
    space = ""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()[:8]
        namespace = "".join(c for c in os.readlink("/proc/self/ns/pid") if c.isdigit())
        space = f"/{boot}.{namespace}"
    except OSError:
        pass
    return f"{socket.gethostname()}{space}".replace(":", "_")


def claim_owner() -> str:
    """This thread of this process, as the owner of the memory work it claims: two runs of
    one server (its memory-work run and a client's ``sync``) are two owners too."""
    return f"{this_host()}:{os.getpid()}:{threading.get_ident()}"


def ended_here(owner: str) -> bool:
    """Whether a claim's owner was a process of this host (``this_host``) that has ended (a
    server killed mid-work and restarted: its claims need not wait out their lease)."""
    host, pid, _thread = [*owner.rsplit(":", 2), "", ""][:3]
    if host != this_host() or not pid.isdigit():
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
                  errors: list[str], finish: bool = False,
                  then_session: bool = True) -> dict[str, Any]:
    """A stored turn's memory work: its personality observation (unless stored already),
    then, in ``extraction_mode`` turn, the semantic memories of its extraction window
    (``extraction_window``) once the window is full or its session is finished, or with
    ``finish`` (``sync``) at once; until then the turn stays pending. Each turn of the
    window has its outcome recorded in the store; the report's ``window`` lists them.
    Work that another process has claimed is left to it. With ``then_session``, a window
    that was the last of a finished session is followed by that session's work (the
    session's own work found the window claimed here, and left it to this one)."""
    state = res.memory.turn_work_state(ctx.user_id, turn["id"])
    if state is None:
        return {"status": "forgotten"}
    if state == "done":
        return {"status": "done already"}
    owner = claim_owner()
    with meter.store():
        if not claim(res, ctx, turn["id"]):
            return dict(CLAIMED_ELSEWHERE)
    # A failed personality observation is reported but fails nothing: redoing the turn's
    # extraction for it would cost a call and change nothing.
    observe_or_report(res, ctx, turn, meter, errors)
    if ctx.extraction_mode != "turn":
        with meter.store():
            res.memory.mark_turn_work(ctx.user_id, turn["id"], "done", owner=owner)
        return {"window": [turn["id"]]}
    with meter.store():
        window = extraction_window(res, ctx, turn, finish)
        if not window:
            res.memory.release_work(ctx.user_id, turn["id"], owner)
            return dict(WAITING)
        window = sorted([turn, *(t for t in window if t["id"] != turn["id"]
                                 and claim(res, ctx, t["id"]))], key=lambda t: t["at"])
    for other in window:
        if other["id"] != turn["id"]:  # observed at its own turn, unless that run died
            observe_or_report(res, ctx, other, meter, errors)
    report = {**extract_window(res, ctx, window, meter, errors, owner),
              "window": [t["id"] for t in window]}
    if then_session and session_due(res, ctx, turn["session_id"]):
        report["session"] = run_session_work(res, ctx, turn["session_id"], meter, errors)
    return report


def session_due(res: Resources, ctx: Context, session_id: str) -> bool:
    """Whether a session is finished, not yet consolidated, and none of its turns is
    still to extract."""
    memory = res.memory
    session = memory.session(ctx.user_id, session_id)
    return (session is not None and session.consolidation != "done"
            and session_finished(memory, ctx.user_id, session_id)
            and not any(needs_work(t) for t in memory.session_turns(ctx.user_id, session_id)))


def _extracted_elsewhere(res: Resources, ctx: Context, session_id: str) -> list[str]:
    """The session's turns whose extraction another owner is running now."""
    owner, now = claim_owner(), utc_now()
    return [t.id for t in res.memory.session_turns(ctx.user_id, session_id)
            if needs_work(t) and t.held_by_another(owner, now, ended_here)]


def extract_window(res: Resources, ctx: Context, window: list[WorkTurn], meter: CostMeter,
                   errors: list[str], owner: str) -> dict[str, Any]:
    """Read a window's memories in one call and write them turn by turn, each turn's
    outcome recorded as soon as its memories are written (an error in one turn's writing
    fails that turn only); a turn forgotten meanwhile is left out."""
    try:
        owned, ungrounded = read_window(res, ctx, window, meter)
    except StructuredOutputError as exc:
        errors.append(str(exc))
        with meter.store():
            for turn in window:
                res.memory.mark_turn_work(ctx.user_id, turn["id"], "failed", str(exc), owner)
        return {"status": "failed"}
    memories = {turn["id"]: found for turn, found in owned}
    reports: list[dict[str, Any]] = []
    for turn in window:
        turn_errors: list[str] = []
        found = memories.get(turn["id"])
        if found is not None:
            try:
                reports.append(write_turn_memories(res, ctx, turn, found, meter, turn_errors))
            except InvalidInputError:
                if res.memory.turn_work_state(ctx.user_id, turn["id"]) is None:
                    continue  # forgotten while its memories were being written
                raise
        errors.extend(turn_errors)
        with meter.store():
            res.memory.mark_turn_work(ctx.user_id, turn["id"],
                                      "failed" if turn_errors else "done",
                                      "; ".join(turn_errors), owner)
    if not owned:
        return {"status": "nothing stated"}
    return {**_summed(reports), "ungrounded": ungrounded}


def _summed(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The reports of a window's turns as one: counts added, names listed, rejected names
    with their reasons merged."""
    total: dict[str, Any] = {}
    for report in reports:
        for key, value in report.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
            elif isinstance(value, dict):
                total[key] = {**total.get(key, {}), **value}
            else:
                total[key] = [*total.get(key, []), *value]
    return total


def observe_or_report(res: Resources, ctx: Context, turn: WorkTurn, meter: CostMeter,
                      errors: list[str]) -> None:
    try:
        observe_personality(res, ctx, turn, meter)
    except StructuredOutputError as exc:
        errors.append(f"{exc}; the personality is unchanged this turn")


def waiting_for_extraction(turns: list[Turn], also: str = "") -> list[Turn]:
    """The user turns among ``turns`` whose extraction is still to do (``needs_work``); a
    turn whose exchange is still running elsewhere (not answered) waits for its own run,
    unless it is ``also``."""
    return [t for t in turns if (t.answered or t.id == also) and needs_work(t)]


def extraction_window(res: Resources, ctx: Context, turn: WorkTurn, finish: bool
                      ) -> list[WorkTurn]:
    """The turns whose memories one extraction call reads with ``turn``'s: its session's
    turns waiting for extraction, from the oldest, ``extraction_window`` at a time; the
    window holding ``turn`` once it is full, or its session is finished (consolidated, or
    a later session begun), or at once with ``finish``; else empty."""
    if ctx.extraction_window == 1:
        return [turn]
    memory = res.memory
    waiting = waiting_for_extraction(memory.session_turns(ctx.user_id, turn["session_id"]),
                                     also=turn["id"])
    size = ctx.extraction_window
    for start in range(0, len(waiting), size):
        chunk = waiting[start:start + size]
        if any(t.id == turn["id"] for t in chunk):
            ready = len(chunk) == size or finish or session_finished(memory, ctx.user_id,
                                                                     turn["session_id"])
            return [stored_turn(memory, t) for t in chunk] if ready else []
    return [turn]  # not waiting by the store's account (its state changed meanwhile)


def session_finished(memory: MemoryGraph, user_id: str, session_id: str) -> bool:
    """Whether a session can have no more turns: it is consolidated, or a later session has
    begun (its idle end is the session work's to find: ``outstanding``)."""
    session = memory.session(user_id, session_id)
    latest = memory.latest_session(user_id)
    return session is None or bool(session.summary) or (latest is not None
                                                         and latest.id != session_id)


def run_session_work(res: Resources, ctx: Context, session_id: str, meter: CostMeter,
                     errors: list[str]) -> dict[str, Any]:
    """Consolidate a finished session and record a failure in the store (unless another
    process has claimed it)."""
    with meter.store():
        if not claim(res, ctx, session_id):
            return dict(CLAIMED_ELSEWHERE)
    finish_windows(res, ctx, session_id, meter, errors)
    with meter.store():
        busy = _extracted_elsewhere(res, ctx, session_id)
        if busy:  # consolidated by whoever extracts them, once they are (``run_turn_work``)
            res.memory.release_work(ctx.user_id, session_id, claim_owner())
            # Their owner may have finished and found the session claimed here meanwhile:
            # then it is this run's after all (else the next pass's).
            if _extracted_elsewhere(res, ctx, session_id) or not claim(res, ctx, session_id):
                return {"status": TURNS_ELSEWHERE, "turns": busy}
    if ctx.extraction_mode == "turn" and not ctx.use_consolidation:
        return close_without_consolidation(res, ctx, session_id, meter)
    try:
        return consolidate_session(res, ctx, session_id, meter, errors)
    except StructuredOutputError as exc:
        errors.append(str(exc))
        with meter.store():
            res.memory.mark_consolidation_failed(ctx.user_id, session_id, str(exc),
                                                 claim_owner())
        return {"status": "failed"}


def close_without_consolidation(res: Resources, ctx: Context, session_id: str,
                                meter: CostMeter) -> dict[str, Any]:
    """Settle a finished session without a model call (``use_consolidation`` off): its
    summary is the facts its turns left, as extraction kept them."""
    memory = res.memory
    with meter.store():
        turns = [t.id for t in memory.session_turns(ctx.user_id, session_id)]
        facts = memory.facts_of_turns(ctx.user_id, turns)
        memory.close_session(ctx.user_id, session_id, " ".join(f.statement for f in facts),
                             claim_owner())
    return {"status": "closed without consolidation", "facts": len(facts)}


def finish_windows(res: Resources, ctx: Context, session_id: str, meter: CostMeter,
                   errors: list[str]) -> None:
    """Extract the turns of a finished session still waiting for their window (before its
    consolidation reads the session's memories), each window once in this pass."""
    if ctx.extraction_mode != "turn" or ctx.extraction_window == 1:
        return
    with meter.store():
        waiting = waiting_for_extraction(res.memory.session_turns(ctx.user_id, session_id))
    handled: set[str] = set()
    for turn in waiting:
        if turn.id not in handled:
            report = run_turn_work(res, ctx, stored_turn(res.memory, turn), meter, errors,
                                   finish=True, then_session=False)
            handled.update(report.get("window", ()))


class InlineReport(TypedDict, total=False):
    """What the memory work of a turn did when it ran in the turn."""
    turn: dict[str, Any]
    session: dict[str, Any]


def run_turn_and_previous_session(res: Resources, ctx: Context, turn: WorkTurn,
                                  previous: str | None, meter: CostMeter,
                                  errors: list[str]) -> InlineReport:
    """The memory work a new turn brings: the consolidation of the session it follows, when
    it opened a new one, then the turn's own work; the outcome of each is recorded in the
    store. A failed model output is recorded, never swallowed: the raw turn stays stored
    and searchable either way."""
    report: InlineReport = {}
    if previous:
        report["session"] = run_session_work(res, ctx, previous, meter, errors)
    report["turn"] = run_turn_work(res, ctx, turn, meter, errors)
    return report
