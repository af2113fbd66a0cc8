"""Neo4j 5 backend through the official ``neo4j`` driver (Bolt).

Neo4j Community has one database, so every node carries ``user_id`` and every pattern
is anchored on it, backed by a composite range index on (user_id, id). A vector index per
label is shared by every user: it holds ``user_id`` and ``event_ts`` beside the vector, and
a query filters on them inside the index (Cypher 25 ``SEARCH ... WHERE``, Neo4j 2026.02 or
later), so it returns the user's k nearest whatever the number of users, without
over-fetching or an exact scan. Full-text indexes serve keyword search. Writes are batched
``UNWIND`` statements.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from memory_graph.backends.cypher import BASE, DROP_USER, LIST_USERS, CypherDialect, CypherStore
from memory_graph.embedding import DEFAULT_EMBEDDING_DIMENSION
from memory_graph.errors import InvalidInputError, StoreUnavailableError
from memory_graph.schema import SEARCHABLE_LABELS, NodeLabel

NEO4J = CypherDialect(
    name="neo4j",
    vector="{vec}",
    vector_query="CALL db.index.vector.queryNodes('{label}_embedding', {k}, {vec}) "
                 "YIELD node, score",
    vector_similarity="score",
    exact_similarity="vector.similarity.cosine(n.embedding, {vec})",
    fulltext_query="CALL db.index.fulltext.queryNodes('{label}_text', {query}) YIELD node, score",
    fulltext_or=" OR ",
    index_ddl=("CREATE RANGE INDEX {label}_user_id IF NOT EXISTS FOR (n:{label}) "
               "ON (n.user_id, n.id)",),
    searchable_index_ddl=(
        # The index of earlier releases could not filter by user: replaced.
        "DROP INDEX {label}_embedding IF EXISTS",
        "CYPHER 25 CREATE VECTOR INDEX {label}_user_embedding IF NOT EXISTS FOR (n:{label}) "
        "ON (n.embedding) WITH [n.user_id, n.event_ts] "
        "OPTIONS {{indexConfig: {{`vector.dimensions`: {dimension}, "
        "`vector.similarity_function`: 'cosine'}}}}",
        "CREATE FULLTEXT INDEX {label}_text IF NOT EXISTS FOR (n:{label}) ON EACH [n.search_text]",
    ),
    filtered_vector_query=(
        "CYPHER 25 MATCH (node:{label}) SEARCH node IN (VECTOR INDEX {label}_user_embedding "
        "FOR $vec WHERE {where} LIMIT $k) SCORE AS score "
        "RETURN node._json AS json, score ORDER BY score DESC"),
)

BASE_INDEX = f"CREATE RANGE INDEX pvnode_user_id IF NOT EXISTS FOR (n:{BASE}) ON (n.user_id, n.id)"
AWAIT_INDEXES = "CALL db.awaitIndexes(60)"


def neo4j_statements() -> list[str]:
    """Every statement ``Neo4jStore`` can send (linted in CI with Neo4j's own linter)."""
    return [BASE_INDEX, AWAIT_INDEXES, *NEO4J.statements()]


class Neo4jStore(CypherStore):
    backend = "neo4j"
    dialect = NEO4J

    def __init__(self, uri: str, user: str = "neo4j", password: str = "password",
                 database: str | None = None, dimension: int = DEFAULT_EMBEDDING_DIMENSION) -> None:
        super().__init__()
        import neo4j

        self._neo4j = neo4j
        self._database = database
        self.dimension = dimension
        self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        self._schema_ready = False
        self._lock = threading.Lock()
        try:
            self._driver.verify_connectivity()
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.AuthError, OSError) as exc:
            self._driver.close()
            raise StoreUnavailableError(f"Neo4j at {uri} is unreachable: {exc}") from exc

    @contextmanager
    def _typed_errors(self) -> Iterator[None]:
        exceptions = self._neo4j.exceptions
        try:
            yield
        except (exceptions.ServiceUnavailable, exceptions.SessionExpired, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j connection failed: {exc}") from exc
        except exceptions.ClientError as exc:
            raise InvalidInputError(f"Neo4j rejected the operation: {exc.message}") from exc

    def _execute(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._typed_errors():
            records, _, _ = self._driver.execute_query(
                query, params, database_=self._database)
        return [record.data() for record in records]

    def _run_transaction(self, user_id: str, steps: Sequence[tuple[str, dict[str, Any]]]
                         ) -> None:
        def work(tx: Any) -> None:
            for query, params in steps:
                tx.run(query, params).consume()

        with self._typed_errors(), self._driver.session(database=self._database) as session:
            session.execute_write(work)

    def _run(self, user_id: str, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._execute(query, params)

    def _prepare_user(self, user_id: str) -> None:
        with self._lock:
            if self._schema_ready:
                return
            statements = [BASE_INDEX]
            for label in NodeLabel:
                statements.extend(d.format(label=label.value, dimension=self.dimension)
                                  for d in self.dialect.index_ddl)
            for label in SEARCHABLE_LABELS:
                statements.extend(d.format(label=label.value, dimension=self.dimension)
                                  for d in self.dialect.searchable_index_ddl)
            for statement in statements:
                self._execute(statement, {})
            self._execute(AWAIT_INDEXES, {})
            self._schema_ready = True

    def users(self) -> list[str]:
        return sorted(str(row["uid"]) for row in self._execute(LIST_USERS, {}))

    def drop_user(self, user_id: str) -> None:
        self._require(user_id)
        self._execute(DROP_USER, {"uid": user_id})
        self._known_users.discard(user_id)

    def close(self) -> None:
        self._driver.close()
