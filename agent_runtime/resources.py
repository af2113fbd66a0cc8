"""What the nodes work with (memory graph, search, chat model, media, background worker),
opened lazily from the ``Context`` of a run and shared across runs by one
``ResourceProvider``, which owns them and closes them (``close``, or ``with``).

A provider opens each store once per (backend, location): the embedded store owns its data
directory through a file lock, so two handles in one process would refuse each other. Use
one provider per process and location (the CLI, the server entry point and ``Assistant``
each make one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from agent_runtime.background import BackgroundWorker
from agent_runtime.context import Context, data_home, store_location
from agent_runtime.serving import RunPolicy, TrustedCaller
from memory_graph.backends import open_store
from memory_graph.embedding import Embedder
from memory_graph.graph import MemoryGraph
from memory_graph.media import MediaStore
from memory_graph.search import HybridSearch, Reranker, recipe
from memory_graph.store import GraphStore
from providers.chat import make_chat_model
from providers.embeddings import (
    MINILM_NAME,
    LazyEmbedder,
    SentenceTransformerEmbedder,
    default_embedder,
)
from providers.gate import for_background
from providers.reranker import default_reranker

#: How long ``close`` waits for queued memory work before it gives up (and says so).
CLOSE_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Resources:
    memory: MemoryGraph
    search: HybridSearch
    chat: BaseChatModel
    media: MediaStore
    worker: BackgroundWorker

    def in_background(self, cache_slot: str = "") -> Resources:
        """The same resources for memory work: its model calls give way to replies
        (``providers.gate``), on a prompt cache of their own (``cache_slot`` for work that
        repeats one long prompt prefix)."""
        return replace(self, chat=for_background(self.chat, cache_slot))


log = logging.getLogger(__name__)


@runtime_checkable
class Preloadable(Protocol):
    """A model that can be loaded ahead of its first call (``ChatLlamaCpp``,
    ``LazyEmbedder``)."""

    def load(self) -> object: ...


def _quietly(load: Callable[[], object]) -> Callable[[], None]:
    """A warm-up load whose failure is left to the first call that needs it (which reports
    it as that call's error)."""
    def run() -> None:
        try:
            load()
        except Exception:  # the call that needs it reports it
            log.debug("warm-up load failed", exc_info=True)
    return run


class ResourceProvider:
    """Resolves a ``Context`` to ``Resources``; objects passed in from Python win and are
    not closed by ``close`` (their owner closes them). ``policy`` decides which context a
    run works with: as given (``TrustedCaller``, the default) or the authenticated caller's
    with the server's own resources (``ServedCaller``, the LangGraph server)."""

    def __init__(self, *, chat_model: BaseChatModel | None = None,
                 embedder: Embedder | None = None, store: GraphStore | None = None,
                 media_dir: str | Path | None = None,
                 worker: BackgroundWorker | None = None,
                 policy: RunPolicy | None = None) -> None:
        self.policy: RunPolicy = policy or TrustedCaller()
        self._chat_model = chat_model
        self._embedder = embedder
        self._store = store
        self._media_dir = Path(media_dir).expanduser() if media_dir is not None else None
        self.worker = worker or BackgroundWorker()
        self._owns_worker = worker is None
        self._chats: dict[tuple[str, str, str], BaseChatModel] = {}
        self._stores: dict[tuple[str, str], GraphStore] = {}
        self._embedders: dict[str, Embedder] = {}
        self._memories: dict[tuple[int, int], MemoryGraph] = {}
        self._reranker: Reranker | None = None
        self._reranker_loaded = False
        self._lock = threading.RLock()
        self._reranker_lock = threading.Lock()
        self._closed = False

    def run_context(self, runtime: Runtime[Context]) -> Context:
        """The context every node of a run works with (``policy``)."""
        return self.policy.context(runtime)

    def chat(self, context: Context) -> BaseChatModel:
        if self._chat_model is not None:
            return self._chat_model
        key = (context.chat_provider, context.chat_model, context.chat_base_url)
        with self._lock:
            if key not in self._chats:
                self._chats[key] = make_chat_model(*key)
            return self._chats[key]

    def store(self, context: Context) -> GraphStore:
        if self._store is not None:
            return self._store
        key = (context.store_backend, store_location(context))
        with self._lock:
            if self._closed:
                raise RuntimeError("this ResourceProvider is closed")
            if key not in self._stores:
                self._stores[key] = open_store(key[0], key[1] or None)
            return self._stores[key]

    def embedder(self, context: Context) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        name = context.embedding_model
        with self._lock:
            if name not in self._embedders:
                bundled = name in ("", MINILM_NAME, f"sentence-transformers/{MINILM_NAME}")
                self._embedders[name] = LazyEmbedder(
                    default_embedder if bundled else partial(SentenceTransformerEmbedder, name))
            return self._embedders[name]

    def reranker(self) -> Reranker | None:
        """The bundled cross-encoder, loaded on first use (None when it is not there), under
        a lock of its own: the other resources are not held up while it loads."""
        with self._reranker_lock:
            if not self._reranker_loaded:
                self._reranker = default_reranker()
                self._reranker_loaded = True
            return self._reranker

    def warm_up(self, context: Context) -> list[threading.Thread]:
        """Start loading what a first reply needs, each on a thread of its own, at once:
        the chat model's reply context, the embedder and (for a recipe that reranks) the
        cross-encoder. A first reply then waits for the slowest of them, not their sum;
        whatever is loading when it needs it is waited for, never loaded twice."""
        loads: list[Callable[[], object]] = [partial(self.store, context)]
        chat = self.chat(context)
        if isinstance(chat, Preloadable):
            loads.append(chat.load)
        embedder = self.embedder(context)
        if isinstance(embedder, Preloadable):
            loads.append(embedder.load)
        if recipe(context.search_recipe).rerank:
            loads.append(self.reranker)
        threads = [threading.Thread(target=_quietly(load), daemon=True,
                                    name=f"warm-up-{number}")
                   for number, load in enumerate(loads)]
        for thread in threads:
            thread.start()
        return threads

    def memory(self, context: Context) -> MemoryGraph:
        store = self.store(context)
        embedder = self.embedder(context)
        key = (id(store), id(embedder))
        with self._lock:
            if key not in self._memories:
                self._memories[key] = MemoryGraph(store, embedder)
            return self._memories[key]

    def media(self, context: Context) -> MediaStore:
        if self._media_dir is not None:
            return MediaStore(self._media_dir)
        if context.store_backend == "networkx":
            return MediaStore(Path(store_location(context)) / "media")
        return MediaStore(data_home() / "media")

    def resolve(self, context: Context) -> Resources:
        memory = self.memory(context)
        return Resources(memory=memory,
                         search=HybridSearch(memory, recipe(context.search_recipe),
                                             load_reranker=self.reranker),
                         chat=self.chat(context), media=self.media(context),
                         worker=self.worker)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Finish queued memory work (at most ``timeout`` seconds, logged), stop the worker
        this provider made and close the stores it opened. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_worker:
            self.worker.close(timeout)
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
            self._memories.clear()

    def __enter__(self) -> ResourceProvider:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
