"""``MemoryGraphStore``: the memory graph as a LangGraph ``BaseStore``, so any LangGraph
agent (its tools, its nodes, a LangGraph server's ``/store`` API) can keep and search one
user's memories without adopting PersonaVLM's agent.

Namespaces start with the user id; nothing a call returns ever belongs to another user.

- ``(user, "turns" | "facts" | "events" | "routines" | "entities" | "images")``: what the
  agent remembered, read only (``delete`` forgets, as ``personavlm forget`` does, the
  files of the photos it removed included when the store is given the media folder). The
  key is the memory's id; the value is ``{"content", "kind", "date", "current", ...}``.
- Any other namespace ``(user, *rest)``: items put through the store. Each becomes a
  "remember" fact of the user, searched together with everything else; ``get`` returns
  the value as it was put. The text searched is ``value["content"]`` (LangMem's shape),
  else ``value["text"]``, else the value as JSON; an optional ``value["at"]`` dates it.

``search(namespace, query=...)`` is the hybrid search (keyword, vector, graph
neighbourhood, reranker when one is given), restricted to the namespace prefix; without
a query it lists the newest first. ``filter`` matches value fields (``==``, or ``$eq``,
``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``).

This is the one module of ``memory_graph`` that imports LangGraph (``import memory_graph``
does not load it), and ``from_location`` the one place that loads the default models from
``providers``: the import-linter contracts name both exceptions (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from memory_graph.errors import InvalidInputError
from memory_graph.graph import MemoryGraph
from memory_graph.media import MediaStore
from memory_graph.schema import (
    SEARCHABLE_LABELS,
    Fact,
    Node,
    NodeLabel,
    SearchableNode,
    StoreItemRef,
    Turn,
    stable_id,
)
from memory_graph.search import RECIPES, HybridSearch
from memory_graph.store import check_user_id
from memory_graph.timeparse import parse_timestamp

#: The read-only namespace (after the user id) of each kind of memory the agent keeps.
AGENT_NAMESPACES: dict[str, NodeLabel] = {
    "turns": NodeLabel.TURN, "facts": NodeLabel.FACT, "events": NodeLabel.EVENT,
    "routines": NodeLabel.ROUTINE, "entities": NodeLabel.ENTITY, "images": NodeLabel.IMAGE}
_NAMESPACE_OF_LABEL = {label: name for name, label in AGENT_NAMESPACES.items()}

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq, "$ne": operator.ne, "$gt": operator.gt, "$gte": operator.ge,
    "$lt": operator.lt, "$lte": operator.le}


class MemoryGraphStore(BaseStore):
    """A LangGraph ``BaseStore`` over one ``MemoryGraph`` (module docstring). Thread-safe as
    the memory graph is; the async methods run the same work in a worker thread."""

    def __init__(self, memory: MemoryGraph, search: HybridSearch | None = None,
                 media: MediaStore | None = None) -> None:
        """``media``: where the photos of ``memory`` are kept, so that a ``delete`` that
        forgets a turn removes the files of its photos too (None: files are left)."""
        self.memory = memory
        self.hybrid = search or HybridSearch(memory, RECIPES["hybrid_fast"])
        self.media = media

    @classmethod
    def from_location(cls, path: str | Path, media_dir: str | Path | None = None
                      ) -> MemoryGraphStore:
        """The embedded (networkx) memory graph at ``path`` (``~`` expanded), with the
        bundled embedder and reranker, loaded on first use, and its photos in
        ``media_dir`` (by default ``path/media``, where the agent keeps them for that
        store). Close it with ``close``."""
        from memory_graph.backends.networkx_store import NetworkxStore
        from providers.embeddings import LazyEmbedder, default_embedder
        from providers.reranker import default_reranker

        location = Path(path).expanduser()
        memory = MemoryGraph(NetworkxStore(location), LazyEmbedder(default_embedder))
        return cls(memory, HybridSearch(memory, RECIPES["hybrid"],
                                        load_reranker=default_reranker),
                   MediaStore(media_dir if media_dir is not None else location / "media"))

    def close(self) -> None:
        self.memory.store.close()

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._run(op) for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))

    def _run(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            return self._get(op.namespace, op.key)
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, PutOp):
            self._put(op.namespace, op.key, op.value)
            return None
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise InvalidInputError(f"unsupported store operation {type(op).__name__}")

    # -- reading --
    def _get(self, namespace: tuple[str, ...], key: str) -> Item | None:
        user_id, rest = _split(namespace)
        if not self.memory.has_user(user_id):
            return None
        found = self.memory.store.get_nodes(user_id, [_node_id(user_id, rest, key)],
                                            embeddings=False)
        if not found or _namespace(found[0]) != namespace:
            return None
        return _item(found[0])

    def _search(self, op: SearchOp) -> list[SearchItem]:
        user_id, rest = _split(op.namespace_prefix)
        if not self.memory.has_user(user_id):
            return []
        wanted = op.offset + op.limit
        labels = _labels_under(rest)
        scored: list[tuple[Node, float | None]]
        if op.query:
            search = self.hybrid.with_config(replace(self.hybrid.config, labels=labels))
            hits = search.search(user_id, op.query, k=max(wanted * 4, 50))
            scored = [(hit.node, hit.relevance) for hit in hits]
        else:
            nodes = [n for label in labels for n in self.memory.store.find_nodes(user_id, label)]
            nodes.sort(key=_newest_first)
            scored = [(node, None) for node in nodes]
        items = [_item(node, score) for node, score in scored]
        return [item for item in items
                if item.namespace[:len(op.namespace_prefix)] == op.namespace_prefix
                and _matches(item.value, op.filter or {})][op.offset:wanted]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        user_id = _user_of_conditions(op.match_conditions or ())
        if not self.memory.has_user(user_id):
            return []
        found = {_namespace(node) for label in SEARCHABLE_LABELS
                 for node in self.memory.store.find_nodes(user_id, label)}
        if op.max_depth is not None:
            found = {ns[:op.max_depth] for ns in found}
        listed = sorted(ns for ns in found
                        if all(_namespace_matches(ns, c) for c in op.match_conditions or ()))
        return listed[op.offset:op.offset + op.limit]

    # -- writing --
    def _put(self, namespace: tuple[str, ...], key: str,
             value: Mapping[str, Any] | None) -> None:
        user_id, rest = _split(namespace)
        if value is None:
            if self._get(namespace, key) is None:
                return  # deleting what is not there is not an error in a BaseStore
            self._forget(user_id, _node_id(user_id, rest, key))
            return
        if rest[:1] and rest[0] in AGENT_NAMESPACES:
            raise InvalidInputError(
                f"{namespace!r} holds the memories the agent learned and is read only; put "
                f"items in another namespace, e.g. ({user_id!r}, 'memories')")
        try:
            value_json = json.dumps(dict(value), ensure_ascii=False, default=str)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"a store value must be a JSON object: {exc}") from exc
        at = value.get("at")
        self.memory.remember(
            user_id, _text_of(value, value_json), memory_id=_node_id(user_id, rest, key),
            at=parse_timestamp(at) if isinstance(at, str | datetime) else None,
            stored_as=StoreItemRef(namespace=list(rest), key=key, value_json=value_json))


    def _forget(self, user_id: str, memory_id: str) -> None:
        """Forget a memory and the files of the photos that went with it (only those: a
        photo a turn in progress saved is not yet an image, and stays)."""
        before = self.memory.image_hashes(user_id) if self.media is not None else set()
        self.memory.forget_memory(user_id, memory_id)
        if self.media is not None:
            self.media.delete(user_id, before - self.memory.image_hashes(user_id))


def _split(namespace: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The user id (checked) and the rest of a namespace."""
    if not namespace or namespace[0] == "*":
        raise InvalidInputError("a namespace of the memory graph starts with the user id")
    check_user_id(namespace[0])
    return namespace[0], tuple(namespace[1:])


def _user_of_conditions(conditions: Sequence[MatchCondition]) -> str:
    for condition in conditions:
        if condition.match_type == "prefix" and condition.path[:1] != ("*",):
            user_id, _ = _split(condition.path)
            return user_id
    raise InvalidInputError("list namespaces under a user: prefix=(user_id,)")


def _node_id(user_id: str, rest: tuple[str, ...], key: str) -> str:
    """Agent memories are found by their own id; store items by their address."""
    if len(rest) == 1 and rest[0] in AGENT_NAMESPACES:
        return key
    return stable_id(user_id, "store", *rest, key)


def _labels_under(rest: tuple[str, ...]) -> tuple[NodeLabel, ...]:
    if not rest:
        return SEARCHABLE_LABELS
    return (AGENT_NAMESPACES.get(rest[0], NodeLabel.FACT),)


def _namespace(node: Node) -> tuple[str, ...]:
    if isinstance(node, Fact) and node.stored_as is not None:
        return (node.user_id, *node.stored_as.namespace)
    return (node.user_id, _NAMESPACE_OF_LABEL.get(node.label, node.label.value.lower()))


def _key(node: Node) -> str:
    return node.stored_as.key if isinstance(node, Fact) and node.stored_as else node.id


def _value(node: Node) -> dict[str, Any]:
    if isinstance(node, Fact) and node.stored_as is not None:
        stored: dict[str, Any] = json.loads(node.stored_as.value_json)
        return stored
    moment = node.event_time()
    value: dict[str, Any] = {
        "content": node.search_text() if isinstance(node, SearchableNode) else "",
        "kind": node.kind if isinstance(node, Fact) else node.label.value.lower(),
        "date": moment.isoformat() if moment else None,
        "current": bool(getattr(node, "is_current", lambda: True)())}
    if isinstance(node, Turn):
        value.update(role=node.role, session_id=node.session_id)
    return value


def _item(node: Node, score: float | None = None) -> SearchItem:
    updated = node.event_time() if isinstance(node, Fact) and node.stored_as else None
    return SearchItem(namespace=_namespace(node), key=_key(node), value=_value(node),
                      created_at=node.created_at, updated_at=updated or node.created_at,
                      score=score)


def _newest_first(node: Node) -> float:
    moment = node.event_time() or node.created_at
    return -moment.timestamp()


def _text_of(value: Mapping[str, Any], value_json: str) -> str:
    for field in ("content", "text"):
        if isinstance(value.get(field), str) and value[field].strip():
            return str(value[field])
    return value_json


def _matches(value: Mapping[str, Any], conditions: Mapping[str, Any]) -> bool:
    for field, wanted in conditions.items():
        have = value.get(field)
        tests = wanted.items() if isinstance(wanted, Mapping) else [("$eq", wanted)]
        for name, operand in tests:
            if name not in _COMPARISONS:
                raise InvalidInputError(f"unsupported filter operator {name!r}")
            try:
                if not _COMPARISONS[name](have, operand):
                    return False
            except TypeError:
                return False
    return True


def _namespace_matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    path = tuple(condition.path)
    if len(path) > len(namespace):
        return False
    part = namespace[:len(path)] if condition.match_type == "prefix" else namespace[-len(path):]
    return all(p in ("*", n) for p, n in zip(path, part, strict=True))
