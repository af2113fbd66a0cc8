"""Store backends and the factory that opens one by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

from memory_graph.errors import ConfigurationError
from memory_graph.store import GraphStore

BackendName = Literal["networkx", "falkordb", "neo4j"]
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)


def open_store(backend: str = "networkx", location: str | Path | None = None, *,
               read_only: bool = False) -> GraphStore:
    """Open a store: a data directory for networkx, a URL for the servers. ``read_only``
    opens an embedded store beside the process that holds it (the servers share theirs).

    ``falkordb``: ``redis://host:port`` (default ``$FALKORDB_URL`` or localhost:6379).
    ``neo4j``: ``bolt://host:port`` or ``neo4j://...`` (default ``$NEO4J_URI``), with
    ``$NEO4J_USER`` / ``$NEO4J_PASSWORD``.
    """
    if backend == "networkx":
        from memory_graph.backends.networkx_store import NetworkxStore

        return NetworkxStore(location, read_only=read_only)
    if backend == "falkordb":
        from memory_graph.backends.falkordb_store import FalkorDBStore

        return FalkorDBStore(str(location or os.environ.get("FALKORDB_URL",
                                                             "redis://127.0.0.1:6379")))
    if backend == "neo4j":
        from memory_graph.backends.neo4j_store import Neo4jStore

        uri = str(location or os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
        return Neo4jStore(uri, os.environ.get("NEO4J_USER", "neo4j"),
                          os.environ.get("NEO4J_PASSWORD", "password"))
    raise ConfigurationError(f"unknown backend {backend!r}; choose one of "
                             f"{', '.join(BACKENDS)}")
