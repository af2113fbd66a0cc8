"""The store as the read-only commands open it: read-only, so they work while a chat or
the server holds it, and without the agent, LangGraph or a model (the embedder loads only
if a command searches)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from agent_runtime.context import store_location
from memory_graph.backends import open_store
from memory_graph.graph import MemoryGraph
from memory_graph.store import GraphStore
from personavlm.commands.options import context_of
from providers.embeddings import LazyEmbedder, default_embedder


@contextmanager
def read_memory(args: argparse.Namespace) -> Iterator[tuple[MemoryGraph, GraphStore]]:
    context = context_of(args)
    store = open_store(context.store_backend, store_location(context) or None, read_only=True)
    try:
        yield MemoryGraph(store, LazyEmbedder(default_embedder)), store
    finally:
        store.close()
