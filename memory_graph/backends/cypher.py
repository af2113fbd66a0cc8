"""The Cypher both server backends share, and the dialect object that holds their differences.

Values always travel as parameters. The only identifiers formatted into statement text are
node labels and relationship types, and those come from the closed ``NodeLabel`` /
``EdgeType`` enums, never from callers. Every node carries the shared label ``PvNode`` and
every pattern is anchored on ``user_id`` as well as on the backend's own isolation (one
graph per user on FalkorDB).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from memory_graph.errors import InvalidInputError, UnknownUserError
from memory_graph.schema import (
    NODE_TYPES,
    SEARCHABLE_LABELS,
    Edge,
    EdgeType,
    Node,
    NodeLabel,
    User,
    node_from_record,
)
from memory_graph.store import (
    Direction,
    Hit,
    Scalar,
    TimeWindow,
    WriteBatch,
    check_user_id,
    missing_endpoints,
    validate_batch,
)
from memory_graph.text import STOP_WORDS, WORD

BASE = "PvNode"


@dataclass(frozen=True)
class CypherDialect:
    """What differs between FalkorDB and Neo4j Cypher."""

    name: str
    #: Wraps a vector parameter for storage and queries.
    vector: str
    #: Native vector index query yielding ``node, score``: {label}, {k}, {vec}.
    vector_query: str
    #: Expression turning the vector call's score into a similarity (higher better).
    vector_similarity: str
    #: Exact cosine similarity of ``n.embedding`` and a vector expression {vec}.
    exact_similarity: str
    #: Full-text index query yielding ``node, score``: {label}, {query}.
    fulltext_query: str
    #: Joins sanitised words in a full-text query.
    fulltext_or: str
    #: Index DDL, formatted with {label} and {dimension}.
    index_ddl: tuple[str, ...]
    searchable_index_ddl: tuple[str, ...]
    #: A vector query that filters by user and time inside the index and returns ``k``
    #: of them (``{label}``, ``{where}`` over ``node``): for a database whose vector index
    #: all users share. None: the index is the user's own (a graph per user), and the
    #: native query above over-fetches and filters.
    filtered_vector_query: str | None = None

    def statements(self) -> Iterator[str]:
        """Every statement this dialect can run (for linting), with example labels."""
        for label in NodeLabel:
            for ddl in self.index_ddl:
                yield ddl.format(label=label.value, dimension=384)
            yield _upsert_nodes(self, label)
            yield _find_nodes(label, ["session_id"])
            yield _latest_nodes(label)
        for label in SEARCHABLE_LABELS:
            for ddl in self.searchable_index_ddl:
                yield ddl.format(label=label.value, dimension=384)
            yield _keyword_search(self, label)
            yield _vector_search(self, label)
            if self.filtered_vector_query is None:
                yield _exact_vector_search(self, label)
        for edge_type in EdgeType:
            yield _upsert_edges(edge_type)
        yield from (GET_NODES, EDGES_ALL, EDGES_OUT, EDGES_IN, DELETE_NODES, DELETE_EDGES,
                    DROP_USER, HAS_USER, LIST_USERS, CLAIM_NODE)


def _upsert_nodes(dialect: CypherDialect, label: NodeLabel) -> str:
    return (
        f"UNWIND $rows AS row MERGE (n:{BASE}:{label.value} {{user_id: $uid, id: row.id}}) "
        f"SET n = row.props "
        f"WITH n, row WHERE row.emb IS NOT NULL "
        f"SET n.embedding = {dialect.vector.format(vec='row.emb')}"
    )


def _upsert_edges(edge_type: EdgeType) -> str:
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{BASE} {{user_id: $uid, id: row.source}}) "
        f"MATCH (b:{BASE} {{user_id: $uid, id: row.target}}) "
        f"MERGE (a)-[e:{edge_type.value} {{eid: row.eid}}]->(b) "
        f"SET e = row.props"
    )


def _find_nodes(label: NodeLabel, keys: Sequence[str]) -> str:
    conditions = "".join(f" AND n.{key} = $where.{key}" for key in keys)
    return (f"MATCH (n:{label.value}) WHERE n.user_id = $uid{conditions} "
            f"RETURN n._json AS json, n.embedding AS emb LIMIT $limit")


def _latest_nodes(label: NodeLabel) -> str:
    return (f"MATCH (n:{label.value}) WHERE n.user_id = $uid "
            f"RETURN n._json AS json, n.embedding AS emb ORDER BY n.event_ts DESC LIMIT $k")


def _time_filter(var: str) -> str:
    return f"{var}.user_id = $uid AND {var}.event_ts >= $lo AND {var}.event_ts < $hi"


def _keyword_search(dialect: CypherDialect, label: NodeLabel) -> str:
    call = dialect.fulltext_query.format(label=label.value, query="$query")
    return (f"{call} WITH node, score WHERE {_time_filter('node')} "
            f"RETURN node._json AS json, score ORDER BY score DESC LIMIT $k")


def _vector_search(dialect: CypherDialect, label: NodeLabel) -> str:
    if dialect.filtered_vector_query is not None:
        return dialect.filtered_vector_query.format(label=label.value,
                                                    where=_time_filter("node"))
    call = dialect.vector_query.format(label=label.value, k="$fetch",
                                       vec=dialect.vector.format(vec="$vec"))
    return (f"{call} WITH node, {dialect.vector_similarity} AS sim "
            f"WHERE {_time_filter('node')} "
            f"RETURN node._json AS json, sim AS score ORDER BY score DESC LIMIT $k")


def _exact_vector_search(dialect: CypherDialect, label: NodeLabel) -> str:
    similarity = dialect.exact_similarity.format(vec=dialect.vector.format(vec="$vec"))
    return (f"MATCH (n:{label.value}) WHERE {_time_filter('n')} AND n.embedding IS NOT NULL "
            f"WITH n, {similarity} AS score "
            f"RETURN n._json AS json, score ORDER BY score DESC LIMIT $k")


GET_NODES = (f"UNWIND $ids AS nid MATCH (n:{BASE} {{user_id: $uid, id: nid}}) "
             f"RETURN n._json AS json, CASE WHEN $emb THEN n.embedding ELSE null END AS emb")
EDGES_ALL = (f"MATCH (a:{BASE} {{user_id: $uid}})-[e]->(b:{BASE} {{user_id: $uid}}) "
             f"WHERE $types IS NULL OR type(e) IN $types RETURN e._json AS json")
EDGES_OUT = (f"UNWIND $ids AS nid MATCH (a:{BASE} {{user_id: $uid, id: nid}}) "
             f"MATCH (a)-[e]->(b) WHERE b.user_id = $uid AND ($types IS NULL OR type(e) IN $types) "
             f"RETURN e._json AS json")
EDGES_IN = (f"UNWIND $ids AS nid MATCH (b:{BASE} {{user_id: $uid, id: nid}}) "
            f"MATCH (a)-[e]->(b) WHERE a.user_id = $uid AND ($types IS NULL OR type(e) IN $types) "
            f"RETURN e._json AS json")
DELETE_NODES = f"MATCH (n:{BASE} {{user_id: $uid}}) WHERE n.id IN $ids DETACH DELETE n"
DELETE_EDGES = (f"MATCH (:{BASE} {{user_id: $uid}})-[e]->(:{BASE} {{user_id: $uid}}) "
                f"WHERE e.eid IN $ids DELETE e")
DROP_USER = f"MATCH (n:{BASE} {{user_id: $uid}}) DETACH DELETE n"
HAS_USER = "MATCH (u:User {user_id: $uid, id: $uid}) RETURN count(u) AS n"
LIST_USERS = "MATCH (u:User) WHERE u.id = u.user_id RETURN u.user_id AS uid"


#: Node fields stored as properties of their own, so ``find_nodes`` can filter on them.
FILTERABLE = ("session_id", "name", "kind", "role", "seq", "answered", "memory_work",
              "work_claim", "summary")
#: The compare-and-set of a memory-work claim. The first SET takes the node's write lock
#: (Neo4j reads the claim after it, so two transactions cannot both see it free; FalkorDB
#: runs a query alone anyway); the new properties are merged, the vector stays.
CLAIM_NODE = (f"MATCH (n:{BASE} {{user_id: $uid, id: $id}}) SET n._claiming = true "
              "WITH n, coalesce(n.work_claim, '') = $expected AS free "
              "SET n._claiming = null "
              "WITH n, free WHERE free SET n += $props RETURN count(n) AS claimed")


def node_row(node: Node) -> dict[str, Any]:
    """Properties stored for a node: scalars for indexes and filters, JSON for the rest."""
    data = node.model_dump(mode="json", exclude={"embedding"})
    moment = node.event_time()
    props: dict[str, Any] = {
        "id": node.id, "user_id": node.user_id, "label": node.label.value,
        "_json": json.dumps({"label": node.label.value, "data": data}, ensure_ascii=False),
        "event_ts": moment.timestamp() if moment is not None else -1e12,
    }
    if node.searchable:
        props["search_text"] = node.search_text()
    for key in FILTERABLE:
        if key in data:
            props[key] = data[key]
    return {"id": node.id, "props": props, "emb": getattr(node, "embedding", None)}


def edge_row(edge: Edge) -> dict[str, Any]:
    return {"source": edge.source, "target": edge.target, "eid": edge.id,
            "props": {"eid": edge.id, "user_id": edge.user_id,
                      "_json": edge.model_dump_json()}}


def node_from_row(json_text: str, embedding: Sequence[float] | None) -> Node:
    record = json.loads(json_text)
    data = record["data"]
    if embedding is not None:
        data["embedding"] = [float(x) for x in embedding]
    return node_from_record(record["label"], data)


def fulltext_terms(query: str) -> list[str]:
    """Plain lower-case words of the query without stop words: safe in any query syntax."""
    return [w for w in dict.fromkeys(WORD.findall(query.lower())) if w not in STOP_WORDS]


class CypherStore(ABC):
    """``GraphStore`` over a Cypher database; subclasses provide the connection."""

    backend: str
    dialect: CypherDialect
    #: How many extra candidates a filtered native vector query fetches before filtering.
    overfetch = 4
    dimension: int

    def __init__(self) -> None:
        self._known_users: set[str] = set()

    @abstractmethod
    def _run(self, user_id: str, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run one parameterised statement in the user's scope; rows as dicts."""

    @abstractmethod
    def _run_transaction(self, user_id: str, steps: Sequence[tuple[str, dict[str, Any]]]
                         ) -> None:
        """Run the write statements ``steps`` in order as one transaction."""

    @abstractmethod
    def _prepare_user(self, user_id: str) -> None:
        """Create the user's graph and its indexes (idempotent)."""

    def _require(self, user_id: str) -> str:
        """The user id if its graph exists (known users are remembered per client)."""
        if user_id in self._known_users:
            return user_id
        check_user_id(user_id)
        if not self.has_user(user_id):
            raise UnknownUserError(user_id)
        self._known_users.add(user_id)
        return user_id

    def ensure_user(self, user: User) -> None:
        check_user_id(user.user_id)
        self._prepare_user(user.user_id)
        self._run_transaction(user.user_id, self._node_steps(user.user_id, [user]))

    def has_user(self, user_id: str) -> bool:
        rows = self._run(check_user_id(user_id), HAS_USER, {"uid": user_id})
        return bool(rows and rows[0]["n"])

    def commit(self, user_id: str, batch: WriteBatch) -> None:
        """Validate everything, then one transaction of one statement per label, edge type
        and kind of deletion."""
        self._require(user_id)
        validate_batch(user_id, batch.nodes)
        validate_batch(user_id, batch.edges)
        if not batch:
            return
        for node in batch.nodes:
            embedding = getattr(node, "embedding", None)
            if embedding is not None and len(embedding) != self.dimension:
                raise InvalidInputError(f"{node.label} {node.id!r} has a {len(embedding)}-d "
                                        f"embedding, the store holds {self.dimension}-d vectors")
        if batch.edges:  # a read only when there are endpoints to check
            endpoints = sorted({n for e in batch.edges for n in (e.source, e.target)})
            present = {n.id for n in self.get_nodes(user_id, endpoints, embeddings=False)}
            missing = missing_endpoints(batch, present.__contains__)
            if missing:
                raise InvalidInputError(
                    f"edge endpoints not in {user_id!r}'s graph: {missing}")
        steps: list[tuple[str, dict[str, Any]]] = []
        if batch.delete_edge_ids:
            steps.append((DELETE_EDGES, {"uid": user_id, "ids": list(batch.delete_edge_ids)}))
        if batch.delete_node_ids:
            steps.append((DELETE_NODES, {"uid": user_id, "ids": list(batch.delete_node_ids)}))
        steps.extend(self._node_steps(user_id, batch.nodes))
        by_type: dict[EdgeType, list[dict[str, Any]]] = {}
        for edge in batch.edges:
            by_type.setdefault(edge.type, []).append(edge_row(edge))
        steps.extend((_upsert_edges(edge_type), {"uid": user_id, "rows": rows})
                     for edge_type, rows in by_type.items())
        self._run_transaction(user_id, steps)

    def claim_node(self, user_id: str, node: Node, expected_claim: str) -> bool:
        self._require(user_id)
        validate_batch(user_id, [node])
        rows = self._run(user_id, CLAIM_NODE, {"uid": user_id, "id": node.id,
                                               "expected": expected_claim,
                                               "props": node_row(node)["props"]})
        return bool(rows and rows[0]["claimed"])

    def _node_steps(self, user_id: str, nodes: Sequence[Node]
                    ) -> list[tuple[str, dict[str, Any]]]:
        by_label: dict[NodeLabel, list[dict[str, Any]]] = {}
        for node in nodes:
            by_label.setdefault(node.label, []).append(node_row(node))
        return [(_upsert_nodes(self.dialect, label), {"uid": user_id, "rows": rows})
                for label, rows in by_label.items()]

    def get_nodes(self, user_id: str, ids: Sequence[str],
                  embeddings: bool = True) -> list[Node]:
        self._require(user_id)
        rows = self._run(user_id, GET_NODES, {"uid": user_id, "ids": list(ids),
                                              "emb": embeddings})
        found = {n.id: n for n in (node_from_row(r["json"], r["emb"]) for r in rows)}
        return [found[i] for i in ids if i in found]

    def find_nodes(self, user_id: str, label: NodeLabel,
                   where: dict[str, Scalar] | None = None, limit: int | None = None) -> list[Node]:
        self._require(user_id)
        conditions = where or {}
        allowed = set(NODE_TYPES[label].model_fields) & {*FILTERABLE, "id"}
        unknown = set(conditions) - allowed
        if unknown:
            raise InvalidInputError(f"cannot filter {label} on {sorted(unknown)}; "
                                    f"filterable: {sorted(allowed)}")
        rows = self._run(user_id, _find_nodes(label, sorted(conditions)),
                         {"uid": user_id, "where": conditions, "limit": limit or 1_000_000})
        return [node_from_row(r["json"], r["emb"]) for r in rows]

    def latest_nodes(self, user_id: str, label: NodeLabel, k: int = 1) -> list[Node]:
        self._require(user_id)
        rows = self._run(user_id, _latest_nodes(label), {"uid": user_id, "k": k})
        return [node_from_row(r["json"], r["emb"]) for r in rows]

    def edges(self, user_id: str, node_ids: Sequence[str] | None = None,
              types: Sequence[EdgeType] | None = None, direction: Direction = "both") -> list[Edge]:
        self._require(user_id)
        params = {"uid": user_id, "ids": list(node_ids) if node_ids is not None else None,
                  "types": [t.value for t in types] if types is not None else None}
        rows = []
        if node_ids is None:
            rows += self._run(user_id, EDGES_ALL, params)
        if direction in ("out", "both") and node_ids is not None:
            rows += self._run(user_id, EDGES_OUT, params)
        if direction in ("in", "both") and node_ids is not None:
            rows += self._run(user_id, EDGES_IN, params)
        unique = {e.id: e for e in (Edge.model_validate_json(r["json"]) for r in rows)}
        return list(unique.values())

    def _window(self, window: TimeWindow | None) -> dict[str, float]:
        lo, hi = window.bounds_ts() if window is not None else (-1e13, 1e13)
        return {"lo": max(lo, -1e13), "hi": min(hi, 1e13)}

    def keyword_search(self, user_id: str, label: NodeLabel, query: str, k: int,
                       window: TimeWindow | None = None) -> list[Hit]:
        self._require(user_id)
        terms = fulltext_terms(query)
        if not terms or label not in SEARCHABLE_LABELS:
            return []
        rows = self._run(user_id, _keyword_search(self.dialect, label),
                         {"uid": user_id, "query": self.dialect.fulltext_or.join(terms), "k": k,
                          **self._window(window)})
        return [Hit(node_from_row(r["json"], None), float(r["score"])) for r in rows]

    def vector_search(self, user_id: str, label: NodeLabel, vector: Sequence[float], k: int,
                      window: TimeWindow | None = None) -> list[Hit]:
        self._require(user_id)
        if len(vector) != self.dimension:
            raise InvalidInputError(f"query vector has dimension {len(vector)}, "
                                    f"the store holds {self.dimension}-d vectors")
        if label not in SEARCHABLE_LABELS or k <= 0:
            return []
        params = {"uid": user_id, "vec": [float(x) for x in vector], "k": k,
                  "fetch": k * self.overfetch, **self._window(window)}
        rows = self._run(user_id, _vector_search(self.dialect, label), params)
        if len(rows) < k and self.dialect.filtered_vector_query is None:
            # Fewer than k of the user's in the time window among the nearest fetched:
            # score the user's own nodes in the window exactly (the graph is the user's).
            rows = self._run(user_id, _exact_vector_search(self.dialect, label), params)
        return [Hit(node_from_row(r["json"], None), float(r["score"])) for r in rows]
