from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


from memory_graph.backends.falkordb_server import FalkorDBServer
from memory_graph.store import GraphStore

BACKEND_PARAMS = [
    "networkx",
    "falkordb",
    pytest.param("neo4j", marks=pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"), reason="no Neo4j server: set NEO4J_URI "
        "(docker compose up -d) to run the conformance suite against Neo4j")),
]


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorDBServer]:
    with FalkorDBServer(tmp_path_factory.mktemp("falkordb")) as server:
        yield server


def _open(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    if backend == "networkx":
        from memory_graph.backends.networkx_store import NetworkxStore

        return NetworkxStore(tmp_path / "store")
    if backend == "falkordb":
        from memory_graph.backends.falkordb_store import FalkorDBStore

        server = request.getfixturevalue("falkordb_server")
        return FalkorDBStore(server.url)
    from memory_graph.backends.neo4j_store import Neo4jStore

    return Neo4jStore(os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"),
                      os.environ.get("NEO4J_PASSWORD", "password"))


@pytest.fixture(params=BACKEND_PARAMS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    opened = _open(request.param, request, tmp_path)
    for user_id in opened.users():
        if user_id.startswith("t-"):
            opened.drop_user(user_id)
    yield opened
    for user_id in opened.users():
        if user_id.startswith("t-"):
            opened.drop_user(user_id)
    opened.close()

