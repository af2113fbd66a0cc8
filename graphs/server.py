"""Entry point for ``langgraph.json``: the agent the LangGraph server serves.

Served, every caller is a stranger (``agent_runtime.serving.ServedCaller``): the user is the
authenticated caller (``graphs/auth.py``), and the store, media directory, chat model and
embedder come from the server's ``PERSONAVLM_*`` environment (``ServerSettings``), read once
here; a run's context cannot choose them. The models start loading as the server starts
(``ResourceProvider.warm_up``), so the first run need not wait for them all. The
server process owns one ``ResourceProvider``; at exit it finishes model calls and memory
work in progress for at most ``SHUTDOWN_SECONDS``, saying so (``graphs.shutdown``), and
closes the stores. ``memory`` is the second graph:
the caller's memory work and forgetting (``graphs.memory_service``), on the same
resources. ``memory_store`` is the server's long-term store (``store.path``): the same
memory graph as a LangGraph ``BaseStore``, so ``/store`` clients and any graph's tools
search it (each caller only under their own id, ``graphs/auth.py``). Its search is keyword,
vector and graph neighbourhood without the cross-encoder, which the agent's own retrieval
keeps: with it, 20 searches in flight on a 2-core server waited 3 to 4 s each and held the
runs back (``personavlm bench serve``, docs/deployment.md)."""

import atexit
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from agent_memory.base_store import MemoryGraphStore
from agent_runtime.context import Context
from agent_runtime.internal_threads import internal_key
from agent_runtime.resources import ResourceProvider
from agent_runtime.serving import ServedCaller, ServerSettings
from graphs.agent import build_agent
from graphs.memory_service import build_memory_service
from graphs.shutdown import exit_within
from memory_graph.search import HybridSearch, recipe
from providers.llama_runtime import configure_openmp

#: How long the stopping server waits for model calls and memory work in progress.
SHUTDOWN_SECONDS = 20.0

configure_openmp()
settings = ServerSettings.from_env()
key = internal_key()
resources = ResourceProvider(media_dir=settings.media_path, policy=ServedCaller(settings))
atexit.register(resources.close, SHUTDOWN_SECONDS)
graph = build_agent(provider=resources, internal_key=key)
memory = build_memory_service(resources, key)


@asynccontextmanager
async def memory_store() -> AsyncIterator[MemoryGraphStore]:
    """``store.path``: yields the server's store; its exit is the start of the server's
    teardown, which is bounded from there (``graphs.shutdown``)."""
    context = settings.apply(Context())
    memory = resources.memory(context)
    resources.warm_up(context)  # a client's first run need not wait for the models
    try:
        yield MemoryGraphStore(memory, HybridSearch(memory, recipe("hybrid_fast")),
                               media=resources.media(context))
    finally:
        exit_within(SHUTDOWN_SECONDS, "model calls and memory work in progress")
