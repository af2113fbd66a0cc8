"""What the nodes work with — memory graph, search, chat model, media, background worker —
opened lazily from the ``Context`` of a run and shared across runs.

Stores are shared process-wide per (backend, location): the embedded store owns its data
directory through a file lock, so two handles in one process would refuse each other.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from memory_graph.backends import open_store
from memory_graph.embedding import Embedder
from memory_graph.graph import MemoryGraph
from memory_graph.media import MediaStore
from memory_graph.search import HybridSearch, recipe
from memory_graph.store import GraphStore
from nodes.background import BackgroundWorker
from nodes.context import Context
from providers.chat import make_chat_model
from providers.embeddings import MINILM_NAME, SentenceTransformerEmbedder, default_embedder
from providers.reranker import default_reranker

_STORES: dict[tuple[str, str], GraphStore] = {}
_STORES_LOCK = threading.Lock()


def data_home() -> Path:
    """``$PERSONAVLM_DATA``, else ``$XDG_DATA_HOME/personavlm``, else ~/.local/share/..."""
    explicit = os.environ.get("PERSONAVLM_DATA")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "personavlm"


def store_location(context: Context) -> str:
    if context.store_location:
        return context.store_location
    return str(data_home() / "memory") if context.store_backend == "networkx" else ""


def shared_store(backend: str, location: str) -> GraphStore:
    key = (backend, location)
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = open_store(backend, location or None)
            _STORES[key] = store
        return store


def close_shared_stores() -> None:
    with _STORES_LOCK:
        for store in _STORES.values():
            store.close()
        _STORES.clear()


@lru_cache(maxsize=4)
def _embedder(name: str) -> Embedder:
    if name in ("", MINILM_NAME, f"sentence-transformers/{MINILM_NAME}"):
        return default_embedder()
    return SentenceTransformerEmbedder(name)


@dataclass(frozen=True)
class Resources:
    memory: MemoryGraph
    search: HybridSearch
    chat: BaseChatModel
    media: MediaStore
    worker: BackgroundWorker


class ResourceProvider:
    """Resolves a ``Context`` to ``Resources``; objects passed in from Python win."""

    def __init__(self, *, chat_model: BaseChatModel | None = None,
                 embedder: Embedder | None = None, store: GraphStore | None = None,
                 media_dir: str | Path | None = None,
                 worker: BackgroundWorker | None = None) -> None:
        self._chat_model = chat_model
        self._embedder = embedder
        self._store = store
        self._media_dir = Path(media_dir) if media_dir is not None else None
        self.worker = worker or BackgroundWorker()
        self._chats: dict[tuple[str, str, str], BaseChatModel] = {}
        self._memories: dict[tuple[int, int], MemoryGraph] = {}
        self._lock = threading.Lock()

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
        return shared_store(context.store_backend, store_location(context))

    def memory(self, context: Context) -> MemoryGraph:
        store = self.store(context)
        embedder = self._embedder or _embedder(context.embedding_model)
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
                                             load_reranker=default_reranker),
                         chat=self.chat(context), media=self.media(context),
                         worker=self.worker)
