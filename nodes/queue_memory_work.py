"""Served, a turn's memory work goes to the LangGraph server's own run queue: after the
reply, ``queue_memory_work`` (the agent's last node) queues a ``sync`` run of the ``memory``
graph for the caller, a few seconds later, and a second one a session gap later that also
consolidates the last session (each new turn replaces the pending one: a debounce, as
LangGraph's memory-template schedules its memory graph). The work itself is durable in the
store (``memory_work.pipeline``), so a server restart loses nothing: whatever a lost run did
not do is still pending, and the caller's next turn queues it again.

The runs are created through the server's in-process client, inside the caller's run: they
are the caller's runs (their context is checked as the caller's, ``agent_runtime.serving``), on
threads of the server's whose ids no client can derive (``agent_runtime.internal_threads``)."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph_sdk import get_client

from agent_runtime.context import Context
from agent_runtime.internal_threads import memory_thread
from agent_runtime.resources import ResourceProvider
from nodes.node_run import NodeRun
from nodes.state import State

#: Seconds between a reply and its memory work (a burst of turns shares one run).
EXTRACT_DELAY_SECONDS = 2
#: Added to the session gap before the idle consolidation, so the session has ended.
IDLE_MARGIN_SECONDS = 5
MEMORY_GRAPH = "memory"


async def queue_memory_work(state: State, runtime: Runtime[Context], *,
                            provider: ResourceProvider, internal_key: str) -> State:
    """Queue the turn's memory work on the server's run queue (the agent's last node when
    served); the threads come from ``internal_key``."""
    ctx = NodeRun.start(provider, runtime).ctx
    turn = state["turn"]
    if not (turn["stored"] and ctx.extract_memories and ctx.background_extraction):
        return {}
    context: dict[str, Any] = {"user_id": ctx.user_id, "user_name": ctx.user_name,
                               "extraction_mode": ctx.extraction_mode,
                               "extraction_window": ctx.extraction_window,
                               "use_consolidation": ctx.use_consolidation,
                               "personality_inference": ctx.personality_inference,
                               "session_gap_minutes": ctx.session_gap_minutes,
                               "assistant_name": ctx.assistant_name}
    schedule: tuple[tuple[str, int, Literal["enqueue", "rollback"]], ...] = (
        ("extract", EXTRACT_DELAY_SECONDS, "enqueue"),
        ("idle", int(ctx.session_gap_minutes * 60) + IDLE_MARGIN_SECONDS, "rollback"))
    # The threads are the caller's, as the auth handlers recognise them (by identity): the
    # user's own, or in the unauthenticated local mode the one local caller's (its users
    # then share them), so they are in no client's thread list.
    caller = runtime.server_info.user if runtime.server_info is not None else None
    identity = str(caller.identity) if caller is not None else ctx.user_id
    async with get_client() as client:
        for kind, delay, strategy in schedule:
            thread_id = memory_thread(internal_key, identity, kind)
            await client.threads.create(thread_id=thread_id, if_exists="do_nothing",
                                        graph_id=MEMORY_GRAPH)
            # After a reply, turns wait for the rest of their extraction window; after
            # the session gap, the session's consolidation finishes them.
            await client.runs.create(thread_id, MEMORY_GRAPH,
                                     input={"action": "sync", "finish": False},
                                     context=context, multitask_strategy=strategy,
                                     after_seconds=delay)
    return {"extraction": {**state.get("extraction", {}), "status": "queued"}}
