"""The ``GraphStore`` protocol every backend implements, and its value types.

The surface is small on purpose (as LangGraph's ``BaseStore``): batch upserts, reads by
id or property, edge reads, keyword and vector search with a time window, deletion.
Everything richer — temporal reads, neighbourhoods, contradiction handling, forgetting,
hybrid search — is built once on top of it in ``memory_graph.graph`` and
``memory_graph.search``, so all backends behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import TypeAdapter, ValidationError

from memory_graph.errors import InvalidInputError
from memory_graph.schema import Edge, EdgeType, Node, NodeLabel, User, UserId, as_utc

Direction = Literal["out", "in", "both"]
Scalar = str | int | float | bool

_USER_ID: TypeAdapter[str] = TypeAdapter(UserId)


def check_user_id(user_id: str) -> str:
    """The user id if it is well-formed, else InvalidInputError."""
    try:
        return _USER_ID.validate_python(user_id)
    except ValidationError as exc:
        raise InvalidInputError(f"invalid user id {user_id!r}: {exc.errors()[0]['msg']}") from exc


@dataclass(frozen=True)
class TimeWindow:
    """Half-open interval [start, end) on a node's event time; ``None`` is unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None:
            object.__setattr__(self, "start", as_utc(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", as_utc(self.end))
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidInputError(f"empty time window: {self.start} >= {self.end}")

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return self.start is None and self.end is None
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment < self.end

    def bounds_ts(self) -> tuple[float, float]:
        """The window as epoch seconds, open ends as ±inf (for index filters)."""
        lo = self.start.timestamp() if self.start is not None else float("-inf")
        hi = self.end.timestamp() if self.end is not None else float("inf")
        return lo, hi


@dataclass(frozen=True)
class Hit:
    """A search result: the node and the backend's score (higher is better)."""

    node: Node
    score: float


@dataclass(frozen=True)
class WriteBatch:
    """Everything one memory write changes. A store commits it as one transaction: all of it
    or, on any error, nothing. Deletions apply first, then nodes, then edges; an edge may
    point at a node written in the same batch."""

    nodes: Sequence[Node] = ()
    edges: Sequence[Edge] = ()
    delete_node_ids: Sequence[str] = ()
    delete_edge_ids: Sequence[str] = ()
    #: The batch forgets what the user asked to forget: a store that keeps copies of
    #: records aside (the embedded store's quarantine of damaged records) drops them too.
    forgets: bool = False

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges or self.delete_node_ids or self.delete_edge_ids)


@runtime_checkable
class GraphStore(Protocol):
    """Persistence and primitive search for per-user graphs. All calls name the user."""

    backend: str

    def ensure_user(self, user: User) -> None:
        """Create the user's graph (or update the User node); idempotent."""

    def has_user(self, user_id: str) -> bool: ...

    def users(self) -> list[str]: ...

    def commit(self, user_id: str, batch: WriteBatch) -> None:
        """Apply ``batch`` as one transaction (see ``WriteBatch``): the only write of nodes
        and edges (nodes replaced by id, edges by type, source, target and key; an edge's
        endpoints must exist), and of their deletion (a node with its edges and index
        entries)."""

    def claim_node(self, user_id: str, node: Node, expected_claim: str) -> bool:
        """Write ``node`` (a new version of a stored node with a new ``work_claim``) only if
        the stored node's ``work_claim`` is still ``expected_claim``, as one atomic
        compare-and-set; whether it was written. A missing node is not written."""

    def get_nodes(self, user_id: str, ids: Sequence[str],
                  embeddings: bool = True) -> list[Node]:
        """The nodes that exist among ``ids``, in the order given (vectors optional)."""

    def find_nodes(self, user_id: str, label: NodeLabel,
                   where: dict[str, Scalar] | None = None, limit: int | None = None) -> list[Node]:
        """Nodes of one label whose properties equal every value in ``where``."""

    def latest_nodes(self, user_id: str, label: NodeLabel, k: int = 1) -> list[Node]:
        """The ``k`` nodes of one label with the latest event time (``Node.event_time``),
        latest first; a read that does not grow with the user's size (it runs at every
        turn: the user's latest session)."""

    def edges(self, user_id: str, node_ids: Sequence[str] | None = None,
              types: Sequence[EdgeType] | None = None, direction: Direction = "both") -> list[Edge]:
        """Every stored version of the matching edges (temporal filtering is the caller's)."""

    def keyword_search(self, user_id: str, label: NodeLabel, query: str, k: int,
                       window: TimeWindow | None = None) -> list[Hit]:
        """Full-text (BM25-style) search over ``search_text`` of one label (hits come
        without their vectors, as from ``vector_search``: ``get_nodes`` has them)."""

    def vector_search(self, user_id: str, label: NodeLabel, vector: Sequence[float], k: int,
                      window: TimeWindow | None = None) -> list[Hit]:
        """Cosine-similarity search over the embeddings of one label."""

    def drop_user(self, user_id: str) -> None:
        """Delete the user's whole graph, indexes and files."""

    def close(self) -> None: ...


def missing_endpoints(batch: WriteBatch, present: Callable[[str], bool]) -> list[str]:
    """Endpoints of the batch's edges that will not exist once it is applied: neither
    written by the batch nor ``present`` in the store (and not deleted by the batch)."""
    written = {node.id for node in batch.nodes}
    deleted = set(batch.delete_node_ids)
    return sorted({end for edge in batch.edges for end in (edge.source, edge.target)
                   if end not in written and (end in deleted or not present(end))})


def validate_batch(user_id: str, items: Sequence[Node] | Sequence[Edge]) -> None:
    """Every record of a batch must belong to the user the call is scoped to."""
    for item in items:
        if item.user_id != user_id:
            raise InvalidInputError(
                f"record owned by {item.user_id!r} written in the scope of {user_id!r}")
