"""The ``memory`` graph of the LangGraph server: a user's memory work and forgetting, as
runs of the authenticated caller (``langgraph_sdk``: ``runs.wait(None, "memory", input=...)``).

- ``{"action": "status"}``: memory-work states and failures
  (``memory_work.outstanding.work_status``);
- ``{"action": "sync"}``: run the caller's outstanding memory work to completion;
- ``{"action": "forget", "turn_id" | "session_id" | "everything": ...}``: forget, and also
  delete the caller's LangGraph threads whose checkpoints hold what was forgotten (all of
  the caller's threads for ``everything``, and the server's threads that queue the
  caller's memory work), so the text leaves the server's storage too. A checkpoint holds
  it when one of its texts shows a trace of the forget (``ForgetReport.traces``: a removed
  memory's id, a cleared text, a quote of the forgotten texts); every checkpoint of every
  thread is read, page by page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from langgraph.checkpoint.memory import PersistentDict
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from agent_runtime.context import Context
from agent_runtime.internal_threads import MEMORY_WORK, memory_thread
from agent_runtime.resources import ResourceProvider
from agent_runtime.serving import UNAUTHENTICATED_LOCAL
from memory_graph.errors import InvalidInputError
from memory_graph.quotes import Traces
from memory_work.forget import forget_memories
from memory_work.outstanding import work_status
from memory_work.sync import sync

log = logging.getLogger("personavlm.memory_service")
OWNER_KEY = "owner"
PAGE = 100
#: Checkpoints read per request (the most LangGraph's history route gives at once).
CHECKPOINT_PAGE = 1000


@with_config(ConfigDict(use_attribute_docstrings=True))
class MemoryRequest(TypedDict, total=False):
    """What the caller asks of their memory."""
    action: Literal["status", "sync", "forget"]
    """status: memory-work states and failures; sync: run outstanding memory work now;
    forget: a turn, a session or everything."""
    turn_id: str
    """forget: the turn (with the reply of its exchange) to forget."""
    session_id: str
    """forget: the session to forget."""
    everything: bool
    """forget: everything about the caller, and all of their threads."""
    finish: bool
    """sync: also extract turns still waiting for the rest of their extraction window
    (default true; the runs queued after each reply leave them waiting)."""


@with_config(ConfigDict(use_attribute_docstrings=True))
class MemoryResponse(TypedDict, total=False):
    action: str
    """The action that ran."""
    result: dict[str, Any]
    """status / sync counts, or what a forget removed (by kind)."""
    threads_deleted: int
    """forget: how many of the caller's threads were deleted with their checkpoints."""


class MemoryState(MemoryResponse, total=False):
    """The answer and the request's own fields (cleared at the end of every run)."""

    turn_id: str | None
    session_id: str | None
    everything: bool | None
    finish: bool | None


#: The request's fields that are not also the answer's.
REQUEST_ONLY = ("turn_id", "session_id", "everything", "finish")


class ServeMemory:
    def __init__(self, provider: ResourceProvider, internal_key: str) -> None:
        self.provider = provider
        self.internal_key = internal_key

    async def __call__(self, state: MemoryRequest, runtime: Runtime[Context]
                       ) -> dict[str, Any]:
        """The answer, and the request cleared: on a thread, what one run asked must not
        carry over to the next (a later forget of one turn would forget everything)."""
        return {**await self._serve(state, runtime), **dict.fromkeys(REQUEST_ONLY)}

    async def _serve(self, state: MemoryRequest, runtime: Runtime[Context]) -> MemoryResponse:
        ctx = self.provider.run_context(runtime)
        res = self.provider.resolve(ctx)
        action = state.get("action") or "status"
        if action == "status":
            result = await asyncio.to_thread(work_status, res.memory, ctx,
                                             res.worker.pending(ctx.user_id))
            return {"action": action, "result": result}
        if action == "sync":
            finish = state.get("finish")
            counts = await asyncio.to_thread(sync, res, ctx, log.info, None,
                                             finish is None or bool(finish))
            return {"action": action, "result": dict(counts)}
        if action != "forget":
            raise InvalidInputError(f"unknown memory action {action!r}")
        everything = bool(state.get("everything"))
        turn_id, session_id = state.get("turn_id"), state.get("session_id")
        if not (everything or turn_id or session_id):
            raise InvalidInputError("forget needs turn_id, session_id or everything")
        user = runtime.server_info.user if runtime.server_info is not None else None
        local = user is None or UNAUTHENTICATED_LOCAL in tuple(
            getattr(user, "permissions", ()) or ())
        # An authenticated caller's threads are all theirs; in the local mode threads are
        # shared, so only those that hold the user's turns go.
        traces: Traces | None = None
        if everything and local:
            traces = Traces(ids=frozenset(t.id for t in res.memory.turns(ctx.user_id)))
        report = await asyncio.to_thread(forget_memories, res, ctx.user_id, turn_id=turn_id,
                                         session_id=session_id, everything=everything)
        if not everything:
            traces = report.traces
        own_thread = str(get_config().get("configurable", {}).get("thread_id", ""))
        deleted = 0
        if user is not None:
            # The threads on which the server queued the caller's memory work go with
            # everything (in the local mode they are the local identity's, as listed).
            server_threads = ([memory_thread(self.internal_key, str(user.identity), kind)
                               for kind in MEMORY_WORK] if everything and not local else [])
            deleted = await delete_threads(str(user.identity), traces, keep=own_thread,
                                           server_threads=server_threads)
        return {"action": action, "result": dict(report.counts), "threads_deleted": deleted}


async def delete_threads(owner: str, traces: Traces | None, keep: str = "",
                         server_threads: Sequence[str] = ()) -> int:
    """Delete the threads of ``owner`` whose checkpoints show any of ``traces`` (None: all
    of them), except ``keep`` (the thread of the run that asks: a threadless run's
    temporary thread, deleted when it ends), and those of ``server_threads`` that exist,
    through the server's own in-process client. Counts the threads of ``owner`` (the
    server's are not theirs to see)."""
    doomed = []
    offset = 0
    async with get_client() as client:
        while True:
            threads = await client.threads.search(metadata={OWNER_KEY: owner}, limit=PAGE,
                                                  offset=offset)
            for thread in threads:
                if thread["thread_id"] == keep:
                    continue
                if traces is None or await _holds(client, thread["thread_id"], traces):
                    doomed.append(thread["thread_id"])
            if len(threads) < PAGE:
                break
            offset += PAGE
        for thread_id in doomed:
            _purge_dev_checkpoints(thread_id)
            await client.threads.delete(thread_id)
        for thread_id in server_threads:
            _purge_dev_checkpoints(thread_id)
            with contextlib.suppress(NotFoundError):  # no memory work was ever queued
                await client.threads.delete(thread_id)
    _save_dev_threads()
    return len(doomed)


async def _holds(client: LangGraphClient, thread_id: str, traces: Traces) -> bool:
    """Whether any checkpoint of the thread (its values, metadata and pending tasks) has a
    text showing one of ``traces``, read newest first, a page at a time, to the first.
    Pages go by ``GET …/history?before=<checkpoint id>``: the SDK's POST route fails on a
    ``before`` (langgraph-api 0.16)."""
    before: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": CHECKPOINT_PAGE}
        if before is not None:
            params["before"] = before
        page: list[dict[str, Any]] = await client.http.get(f"/threads/{thread_id}/history",
                                                           params=params)
        if any(traces.found_in(text) for text in _texts(page)):
            return True
        if len(page) < CHECKPOINT_PAGE:
            return False
        before = str(page[-1]["checkpoint"]["checkpoint_id"])


def _texts(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _purge_dev_checkpoints(thread_id: str) -> None:
    """``langgraph dev``'s in-memory runtime, deleting a thread, keeps the checkpoints'
    channel values (the saver's blobs) and swaps its pending writes for a copy that is no
    longer saved, so the last saved copy on disk (``.langgraph_api``) keeps a forgotten
    text. Delete the thread from the saver first and save its files at once. Runtimes with
    a database (Postgres) delete all of it with the thread, and then this does nothing."""
    try:
        from langgraph_runtime_inmem import checkpoint as dev_runtime
    except ImportError:
        return
    saver = getattr(dev_runtime, "MEMORY", None)
    if saver is None:
        return
    saver.delete_thread(thread_id)
    for table in (saver.storage, saver.writes, saver.blobs):
        if isinstance(table, PersistentDict):
            table.sync()


def _save_dev_threads() -> None:
    """``langgraph dev``'s in-memory runtime saves its threads (each with its last state)
    and runs to ``.langgraph_ops.pckl`` every 10 s: save them now, so that the deleted
    threads' state leaves the disk with the forget. Runtimes with a database do nothing
    here."""
    try:
        from langgraph_runtime_inmem import database as dev_database
    except ImportError:
        return
    store = getattr(dev_database, "GLOBAL_STORE", None)
    if isinstance(store, PersistentDict):
        store.sync()


def build_memory_service(provider: ResourceProvider, internal_key: str) -> CompiledStateGraph[
        MemoryState, Context, MemoryRequest, MemoryResponse]:
    """The ``memory`` graph; ``internal_key`` derives the ids of the server's memory-work
    threads (``agent_runtime.internal_threads``), which forgetting everything deletes."""
    builder = StateGraph(MemoryState, context_schema=provider.policy.context_schema,
                         input_schema=MemoryRequest, output_schema=MemoryResponse)
    builder.add_node("serve_memory", ServeMemory(provider, internal_key))
    builder.add_edge(START, "serve_memory")
    builder.add_edge("serve_memory", END)
    return builder.compile(name="personavlm-memory")
