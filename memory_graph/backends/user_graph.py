"""One user's graph in the embedded store: the networkx graph of nodes held without
their vectors, the keyword, vector, label and property indexes, and the journal every
change goes through first."""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from typing import Any

import networkx as nx

from memory_graph.backends.indexes import BM25Index, FloatVector, VectorIndex
from memory_graph.backends.journal import (
    GraphState,
    Journal,
    Snapshot,
    decode_vector,
    encode_vector,
)
from memory_graph.backends.packed import Records, Strings
from memory_graph.schema import (
    NODE_TYPES,
    SEARCHABLE_LABELS,
    Edge,
    EdgeType,
    Node,
    NodeLabel,
    node_from_record,
    stable_id,
)
from memory_graph.store import Direction, Scalar

#: Properties that ``UserGraph.find`` answers from an index: those the memory graph asks by
#: at every turn (a turn's memory work and answer, a session's turns, the sessions without
#: a summary yet).
INDEXED_PROPERTIES = ("memory_work", "answered", "session_id", "summary")
#: Labels whose nodes ``UserGraph.latest`` finds from a time order (a turn reads the latest
#: session and the current personality); the others are read whole for it.
TIME_ORDERED = (NodeLabel.SESSION, NodeLabel.PERSONALITY)

log = logging.getLogger("personavlm.store")


def _order_ts(node: Node) -> float:
    """A node's event time for ``latest`` (as the Cypher stores keep it: none is earliest)."""
    ts = _event_ts(node)
    return ts if ts is not None else -1e12


def _indexed(node: Node) -> list[str]:
    return [key for key in INDEXED_PROPERTIES if key in type(node).model_fields]


def _journal_node(label: NodeLabel, data: dict[str, Any],
                  vector: Sequence[float] | FloatVector | None) -> dict[str, Any]:
    return {"label": label.value, "data": data, "emb": encode_vector(vector)}


def node_record(node: Node) -> dict[str, Any]:
    """The journal's record of a node written (its vector as the index will hold it)."""
    return _journal_node(node.label, node.model_dump(mode="json", exclude={"embedding"}),
                         getattr(node, "embedding", None))


def node_from(record: dict[str, Any]) -> tuple[Node, FloatVector | None]:
    """The node of a journal record, validated without its vector, and the vector: it
    goes to the index as it is decoded, never through a list of floats."""
    blob = record.get("emb")
    node = node_from_record(record["label"], record["data"])
    return node, decode_vector(blob) if blob is not None else None


#: Between an edge's type and its key in the graph's key of a parallel edge.
_KEY_SEPARATOR = "\x1f"


def _edge_key(edge: Edge) -> str:
    """The edge's key among the edges between its two nodes: its type (one shared string),
    and its key when it has one. Its id is made from these and its endpoints, so it is
    not held (20 characters an edge)."""
    return edge.type.value if not edge.key else f"{edge.type.value}{_KEY_SEPARATOR}{edge.key}"


def _event_ts(node: Node) -> float | None:
    moment = node.event_time()
    return moment.timestamp() if moment is not None else None


class UserGraph:
    """One user's graph, its indexes and its journal."""

    def __init__(self, user_id: str, journal: Journal | None) -> None:
        self.user_id = user_id
        self.journal = journal
        self.lock = threading.RLock()
        #: Set (under ``lock``) when the store lets go of this graph; a caller holding it
        #: from before asks the store again (see ``NetworkxStore._locked``).
        self.evicted = False
        #: Nodes and edges as packed records (``packed.Records``), not models.
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.records = Records()
        self.strings = Strings()
        self.keyword = {label: BM25Index() for label in SEARCHABLE_LABELS}
        self.vector = {label: VectorIndex() for label in SEARCHABLE_LABELS}
        #: Node ids by label, and by (label, property, value) for ``INDEXED_PROPERTIES``:
        #: ordered sets (dicts), so that reads by either never scan the graph.
        self.by_label: dict[NodeLabel, dict[str, None]] = {label: {} for label in NodeLabel}
        self.by_property: dict[tuple[NodeLabel, str, Scalar], dict[str, None]] = {}
        #: (event time, id) of the nodes of ``TIME_ORDERED``'s labels, in order (``latest``).
        self.by_time: dict[NodeLabel, list[tuple[float, str]]] = {
            label: [] for label in TIME_ORDERED}
        #: Nodes per snapshot segment; a node's segment is its ``segment`` attribute in the
        #: graph (none yet: written since the last compaction, which places it).
        self.segment_sizes: dict[int, int] = {}
        #: Segments whose records changed since the last compaction (it rewrites them).
        self.changed_segments: set[int] = set()

    # -- state changes (applied identically when written and when replayed) --
    def apply(self, op: dict[str, Any]) -> None:
        """Apply a journal operation, noting the snapshot segments it changes."""
        kind = op["kind"]
        if kind == "batch":  # one journal record: all of it is replayed, or none
            for part in op["ops"]:
                self.apply(part)
        elif kind == "nodes":
            for record in op["items"]:
                self._changed(record["data"]["id"])
                self._put_node(*node_from(record))
        elif kind == "edges":
            for record in op["items"]:
                self._changed(record["source"])
                self._put_edge(record)
        elif kind == "delete":
            for node_id in op["ids"]:
                self._remove_node(node_id)
        elif kind == "delete_edges":
            doomed = set(op["ids"])
            for source, target, key in list(self.graph.edges(keys=True)):
                edge_type, _, edge_key = key.partition(_KEY_SEPARATOR)
                if stable_id(edge_type, source, target, edge_key) in doomed:
                    self._changed(source)
                    self.graph.remove_edge(source, target, key=key)
        else:
            raise ValueError(f"unknown journal operation {kind!r}")

    def _changed(self, node_id: str) -> None:
        """Note that the segment of ``node_id`` (its record, its outgoing edges) changed."""
        if node_id in self.graph:
            segment = self.graph.nodes[node_id].get("segment")
            if segment is not None:
                self.changed_segments.add(segment)

    def _put_edge(self, record: dict[str, Any]) -> None:
        edge = Edge.model_validate(record)
        self.graph.add_edge(edge.source, edge.target, key=_edge_key(edge),
                            edge=self.records.pack_edge(edge, self.strings))

    def _put_node(self, node: Node, vector: FloatVector | None) -> None:
        """Index the node and hold it packed, without its ``vector``: the vector index
        holds it once (as float32), ``node`` puts it back for a caller who asks for it. A
        node written again keeps its rows in the search indexes, changed only where its
        text, time or vector changed (a turn's memory work is written several times)."""
        old = self._held(node.id)
        if old is not None:
            self._unindex(old, keep_search=node.searchable and old.label == node.label)
        if node.searchable:
            self._index_search(node, old, vector)
        self.by_label[node.label][node.id] = None
        if node.label in self.by_time:
            insort(self.by_time[node.label], (_order_ts(node), node.id))
        for key in _indexed(node):
            self.by_property.setdefault((node.label, key, getattr(node, key)), {})[node.id] = None
        self.graph.add_node(node.id, node=self.records.pack_node(node, self.strings))

    def _index_search(self, node: Node, old: Node | None, vector: FloatVector | None) -> None:
        ts, text = _event_ts(node), node.search_text()
        keyword, vectors = self.keyword[node.label], self.vector[node.label]
        if old is None or old.label != node.label:
            keyword.add(node.id, text, ts)
        elif old.search_text() != text or _event_ts(old) != ts:
            keyword.remove(node.id, old.search_text())
            keyword.add(node.id, text, ts)
        if vector is not None:
            vectors.add(node.id, vector, ts)
        else:
            vectors.remove(node.id)

    def stored(self, node_id: str) -> Node:
        """The node as held (without its vector)."""
        return self.records.node(self.graph.nodes[node_id]["node"])

    def value(self, node_id: str, name: str) -> Scalar | None:
        """One property of a held node; None when it has no such property."""
        try:
            value: Scalar | None = self.records.node_value(self.graph.nodes[node_id]["node"],
                                                           name)
        except AttributeError:
            return None
        return value

    def node(self, node_id: str, embeddings: bool = True) -> Node:
        """The stored node, with its vector when ``embeddings`` and it has one."""
        node = self.stored(node_id)
        return self.with_vector(node) if embeddings else node

    def with_vector(self, node: Node) -> Node:
        """A stored node with its vector put back (the node itself when it has none)."""
        if node.searchable:
            vector = self.vector[node.label].vector_of(node.id)
            if vector is not None:
                return node.model_copy(update={"embedding": vector.tolist()})
        return node

    def find(self, label: NodeLabel, where: dict[str, Scalar],
             limit: int | None) -> list[Node]:
        """The stored nodes of ``label`` whose properties equal ``where``: candidates from
        the smallest index that applies, each checked against every condition."""
        candidates = self.by_label[label]
        for key, value in where.items():
            if key in INDEXED_PROPERTIES:
                indexed = self.by_property.get((label, key, value), {})
                if len(indexed) < len(candidates):
                    candidates = indexed
        found = []
        for node_id in candidates:
            if all(self.value(node_id, key) == value for key, value in where.items()):
                found.append(self.stored(node_id))
                if limit is not None and len(found) >= limit:
                    break
        return found

    def edges(self, node_ids: list[str] | None, types: set[EdgeType] | None,
              direction: Direction) -> list[Edge]:
        """The edges of the given nodes (all edges for None), of ``types`` if given."""
        graph = self.graph
        if node_ids is None:
            triples = list(graph.edges(data="edge"))
        else:
            present = [n for n in node_ids if n in graph]
            triples = []
            if direction in ("out", "both"):
                triples.extend(graph.out_edges(present, data="edge"))
            if direction in ("in", "both"):
                triples.extend(graph.in_edges(present, data="edge"))
        result: dict[str, Edge] = {}
        for source, target, packed in triples:
            edge = self.records.edge_of(packed, source, target, self.user_id)
            if types is None or edge.type in types:
                result[edge.id] = edge
        return list(result.values())

    def latest(self, label: NodeLabel, k: int) -> list[Node]:
        """The stored nodes of ``label`` with the latest event time, latest first: from the
        time order for ``TIME_ORDERED``'s labels, else by reading the label's nodes."""
        if label in self.by_time:
            return [self.stored(node_id) for _, node_id in reversed(self.by_time[label][-k:])]
        nodes = [self.stored(node_id) for node_id in self.by_label[label]]
        return sorted(nodes, key=lambda n: (_order_ts(n), n.id), reverse=True)[:k]

    def _unindex(self, old: Node, keep_search: bool = False) -> None:
        """Take a held node out of the indexes (but for its search rows if ``keep_search``:
        the node is written again, and ``_index_search`` updates them)."""
        node_id = old.id
        if old.searchable and not keep_search:
            self.keyword[old.label].remove(node_id, old.search_text())
            self.vector[old.label].remove(node_id)
        self.by_label[old.label].pop(node_id, None)
        times = self.by_time.get(old.label, [])
        at = bisect_left(times, (_order_ts(old), node_id))
        if at < len(times) and times[at] == (_order_ts(old), node_id):
            del times[at]
        for key in _indexed(old):
            entry = (old.label, key, getattr(old, key))
            ids = self.by_property.get(entry)
            if ids is not None:
                ids.pop(node_id, None)
                if not ids:
                    del self.by_property[entry]

    def _held(self, node_id: str) -> Node | None:
        """The held node, None when there is none (or only an edge's endpoint, after
        damage)."""
        data = self.graph.nodes[node_id] if node_id in self.graph else {}
        return self.records.node(data["node"]) if "node" in data else None

    def _remove_node(self, node_id: str) -> None:
        old = self._held(node_id)
        if old is not None:
            self._unindex(old)
        if node_id in self.graph:
            # Its segment loses it; the segments of the edges into it lose those.
            self._changed(node_id)
            for source in self.graph.predecessors(node_id):
                self._changed(source)
            segment = self.graph.nodes[node_id].get("segment")
            if segment is not None:
                self.segment_sizes[segment] -= 1
            self.graph.remove_node(node_id)

    # -- the snapshot --
    def compact(self, every_segment: bool = False) -> None:
        """Fold the journal's log into its snapshot, rewriting only the segments whose
        records changed since the last compaction (``every_segment``: all of them) and
        the last one, which takes the nodes written since."""
        assert self.journal is not None
        # Noted as changed before the files are written: a compaction that fails (a full
        # disk) leaves them to the next one.
        self.changed_segments |= self._place_new_nodes()
        if every_segment:
            self.changed_segments |= set(self.segment_sizes)
        members: dict[int, list[str]] = {number: [] for number in self.changed_segments}
        for node_id, segment in self.graph.nodes(data="segment"):
            if segment in members:
                members[segment].append(node_id)
        self.journal.compact(self.user_id, {
            number: self._segment_state(node_ids) if node_ids else None
            for number, node_ids in members.items()})
        for number, node_ids in members.items():
            if not node_ids:
                self.segment_sizes.pop(number, None)
        self.changed_segments.clear()

    def _place_new_nodes(self) -> set[int]:
        """Give the nodes without a segment one (the last, until it is full, then a new
        one); returns the segments that took nodes."""
        assert self.journal is not None
        sizes, full = self.segment_sizes, self.journal.segment_nodes
        last = max(sizes, default=0)
        placed: set[int] = set()
        for data in self.graph.nodes.values():
            if "segment" in data:
                continue
            if sizes.get(last, 0) >= full:
                last += 1
            data["segment"] = last
            sizes[last] = sizes.get(last, 0) + 1
            placed.add(last)
        return placed

    def _segment_state(self, node_ids: list[str]) -> GraphState:
        """A segment's records, made one at a time from the packed records (no model is
        made) as the file takes them: its nodes, and their outgoing edges."""
        def nodes() -> Iterator[dict[str, Any]]:
            for node_id in node_ids:
                packed = self.graph.nodes[node_id].get("node")
                if packed is None:
                    continue  # an edge's endpoint only (after damage): its edges are kept
                label: NodeLabel = packed[0]
                vector = (self.vector[label].vector_of(node_id)
                          if NODE_TYPES[label].searchable else None)
                yield _journal_node(label, self.records.node_json(packed), vector)

        edges = (self.records.edge_json(packed, source, target, self.user_id)
                 for source, target, packed in self.graph.out_edges(node_ids, data="edge"))
        return GraphState(self.user_id, nodes(), edges)

    def restore(self, snapshot: Snapshot) -> None:
        """Apply a snapshot's records as they are read (each segment's nodes, then its
        edges); a node read from a segment belongs to it."""
        for kind, record, segment in snapshot.records():
            if kind == "edges":
                self._put_edge(record)
                continue
            self._put_node(*node_from(record))
            if segment is not None:
                self.graph.nodes[record["data"]["id"]]["segment"] = segment
                self.segment_sizes[segment] = self.segment_sizes.get(segment, 0) + 1

    def dangling_edges(self) -> list[tuple[str, str, str]]:
        """Edges whose endpoint has no node (only after damage was set aside)."""
        return [(source, target, key) for source, target, key in self.graph.edges(keys=True)
                if "node" not in self.graph.nodes[source] or "node" not in self.graph.nodes[target]]

    def write(self, op: dict[str, Any], compact: bool = False) -> None:
        """Journal first (the acknowledgement), then apply in memory. A compaction the
        size of the log asks for and the disk refuses does not fail the write, which is
        acknowledged already: it is tried again after the next one."""
        if self.journal is not None:
            self.journal.append(op)
        self.apply(op)
        if self.journal is None:
            return
        if compact:
            self.compact()
        elif self.journal.wants_compaction():
            try:
                self.compact()
            except OSError as exc:
                log.warning("%s: compaction failed (%s); the log keeps every write and is "
                            "compacted after a later one", self.journal.directory, exc)


