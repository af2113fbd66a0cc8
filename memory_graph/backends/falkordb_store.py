"""FalkorDB backend through the official ``falkordb`` client: one graph per user.

Each user's memories live in their own graph (``pvlm_<user id>``), with its own range,
vector and full-text indexes, so isolation does not rest on a property filter alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import redis
from falkordb import FalkorDB

from memory_graph.backends.cypher import BASE, CypherDialect, CypherStore
from memory_graph.embedding import DEFAULT_EMBEDDING_DIMENSION
from memory_graph.errors import InvalidInputError, StoreUnavailableError
from memory_graph.schema import SEARCHABLE_LABELS, NodeLabel
from memory_graph.store import check_user_id

GRAPH_PREFIX = "pvlm_"

FALKORDB = CypherDialect(
    name="falkordb",
    vector="vecf32({vec})",
    vector_query="CALL db.idx.vector.queryNodes('{label}', 'embedding', {k}, {vec}) "
                 "YIELD node, score",
    vector_similarity="1.0 - score",
    exact_similarity="1.0 - vec.cosineDistance(n.embedding, {vec})",
    fulltext_query="CALL db.idx.fulltext.queryNodes('{label}', {query}) YIELD node, score",
    fulltext_or="|",
    index_ddl=("CREATE INDEX FOR (n:{label}) ON (n.id)",),
    searchable_index_ddl=(
        "CREATE VECTOR INDEX FOR (n:{label}) ON (n.embedding) "
        "OPTIONS {{dimension: {dimension}, similarityFunction: 'cosine'}}",
        "CALL db.idx.fulltext.createNodeIndex('{label}', 'search_text')",
    ),
)


class FalkorDBStore(CypherStore):
    backend = "falkordb"
    dialect = FALKORDB

    def __init__(self, url: str = "redis://127.0.0.1:6379",
                 dimension: int = DEFAULT_EMBEDDING_DIMENSION) -> None:
        super().__init__()
        parsed = urlparse(url)
        self.dimension = dimension
        self._prepared: set[str] = set()
        self._lock = threading.Lock()
        try:
            self._db = FalkorDB(host=parsed.hostname or "127.0.0.1", port=parsed.port or 6379,
                                password=parsed.password, socket_connect_timeout=5)
            self._db.connection.ping()
        except redis.RedisError as exc:
            raise StoreUnavailableError(f"FalkorDB at {url} is unreachable: {exc}") from exc

    @staticmethod
    def graph_name(user_id: str) -> str:
        return GRAPH_PREFIX + check_user_id(user_id)

    def _run(self, user_id: str, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        graph = self._db.select_graph(self.graph_name(user_id))
        try:
            result = graph.query(query, params)
        except redis.ConnectionError as exc:
            raise StoreUnavailableError(f"FalkorDB connection failed: {exc}") from exc
        except redis.ResponseError as exc:
            if "empty key" in str(exc) or "Invalid graph operation on empty key" in str(exc):
                return []
            raise InvalidInputError(f"FalkorDB rejected the operation: {exc}") from exc
        header = [h[1] if isinstance(h, list | tuple) else h for h in result.header]
        return [dict(zip(header, row, strict=True)) for row in result.result_set]

    def _run_transaction(self, user_id: str, steps: Sequence[tuple[str, dict[str, Any]]]
                         ) -> None:
        """FalkorDB runs one query atomically, but not several: the steps become one query,
        joined by ``WITH count(*)``. An aggregation always yields exactly one row, so each
        step runs whatever the previous one matched."""
        parts: list[str] = []
        params: dict[str, Any] = {"uid": user_id}
        for index, (query, step_params) in enumerate(steps):
            for name, value in step_params.items():
                if name != "uid":
                    query = re.sub(rf"\${name}\b", f"${name}_{index}", query)
                    params[f"{name}_{index}"] = value
            parts.append(query)
        if parts:
            joined = "".join(f"{part} WITH count(*) AS _{index} "
                             for index, part in enumerate(parts[:-1])) + parts[-1]
            self._run(user_id, joined, params)

    def _prepare_user(self, user_id: str) -> None:
        with self._lock:
            if user_id in self._prepared:
                return
            graph = self._db.select_graph(self.graph_name(user_id))
            existing = self._existing_indexes(user_id)
            statements = [f"CREATE INDEX FOR (n:{BASE}) ON (n.user_id, n.id)"]
            for label in NodeLabel:
                if (label.value, "id") not in existing:
                    statements.extend(d.format(label=label.value, dimension=self.dimension)
                                      for d in self.dialect.index_ddl)
            for label in SEARCHABLE_LABELS:
                if (label.value, "embedding") not in existing:
                    statements.extend(d.format(label=label.value, dimension=self.dimension)
                                      for d in self.dialect.searchable_index_ddl)
            for statement in statements:
                try:
                    graph.query(statement)
                except redis.ResponseError as exc:
                    if "already indexed" not in str(exc) and "already exists" not in str(exc):
                        raise
            self._prepared.add(user_id)

    def _existing_indexes(self, user_id: str) -> set[tuple[str, str]]:
        try:
            rows = self._db.select_graph(self.graph_name(user_id)).query(
                "CALL db.indexes() YIELD label, properties RETURN label, properties").result_set
        except redis.ResponseError:
            return set()
        return {(label, prop) for label, props in rows for prop in props}

    def users(self) -> list[str]:
        try:
            names = self._db.list_graphs()
        except redis.ConnectionError as exc:
            raise StoreUnavailableError(f"FalkorDB connection failed: {exc}") from exc
        return sorted(n[len(GRAPH_PREFIX):] for n in names if n.startswith(GRAPH_PREFIX)
                      and self.has_user(n[len(GRAPH_PREFIX):]))

    def drop_user(self, user_id: str) -> None:
        self._require(user_id)
        with self._lock:
            self._db.select_graph(self.graph_name(user_id)).delete()
            self._prepared.discard(user_id)
            self._known_users.discard(user_id)

    def server_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._db.connection.info("memory")
        return info

    def close(self) -> None:
        self._db.connection.close()
