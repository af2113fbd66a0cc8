"""Compact records of nodes and edges, as the embedded store holds them in memory.

A pydantic model instance costs about 1.4 KB (its ``__dict__``, its set of fields set);
a store of a million turns cannot hold one per node and per edge. A packed record is a
tuple: a node's label, a bit mask of the fields that differ from their defaults, then those
values in field order (an edge's has no label). Lists are held as tuples (nothing returned
can change what is held), and the strings many records repeat (user, session, speaker,
kinds) once per graph. A record is made into its model again, unvalidated (it was
validated when written), when read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from memory_graph.schema import NODE_TYPES, Edge, Node

Packed = tuple[Any, ...]

#: Fields whose values repeat across many records: held once per graph (``Strings``).
SHARED_FIELDS = frozenset({"user_id", "session_id", "speaker", "role", "memory_work", "kind",
                           "predicate", "work_claim"})
#: A field whose default is made per record and that no record keeps at it (a creation time).
_ALWAYS = object()


class Strings:
    """One copy of each repeated string of a graph."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}

    def one(self, value: str) -> str:
        return self._held.setdefault(value, value)


class Codec:
    """Packs a model's fields into a tuple and back. ``skip`` fields are not packed: the
    caller knows them from where the record is held (an edge's endpoints), or they are
    held elsewhere (a node's vector, in the vector index) and read as their default."""

    def __init__(self, model: type[BaseModel], skip: tuple[str, ...] = (),
                 tag: tuple[Any, ...] = ()) -> None:
        self.model = model
        #: What leads every record of this codec (a node's label), before the mask.
        self.tag = tag
        self._first = len(tag)
        self.fields = [name for name in model.model_fields if name not in skip]
        self._defaults: list[Any] = []
        self._lists: list[bool] = []
        for name in self.fields:
            info = model.model_fields[name]
            if info.default is not PydanticUndefined:
                default = info.default
            elif info.default_factory is list:
                default = ()
            else:
                default = _ALWAYS
            self._defaults.append(default)
            self._lists.append(default == () or _is_list(info.annotation))
        self._position = {name: i for i, name in enumerate(self.fields)}
        #: Per field: how a value becomes a JSON value (None: as it is), and the JSON value
        #: of its default (written for a field at its default).
        self._to_json = [_converter(model.model_fields[name].annotation) for name in self.fields]
        self._json_defaults = [None if d is _ALWAYS else _json_value(d) for d in self._defaults]

    def pack(self, model: BaseModel, strings: Strings) -> Packed:
        mask, values = 0, []
        for i, name in enumerate(self.fields):
            value = getattr(model, name)
            if self._lists[i] and isinstance(value, list):
                value = tuple(value)
            default = self._defaults[i]
            if default is not _ALWAYS and value == default and type(value) is type(default):
                continue
            if isinstance(value, str) and name in SHARED_FIELDS:
                value = strings.one(value)
            mask |= 1 << i
            values.append(value)
        return (*self.tag, mask, *values)

    def value(self, packed: Packed, name: str) -> Any:
        """One field's value, without making the model (``AttributeError`` for none)."""
        i = self._position.get(name)
        if i is None:
            raise AttributeError(name)
        mask = packed[self._first]
        if not mask >> i & 1:
            return self._fresh(i)
        return self._out(i, packed[self._first + 1 + (mask & ((1 << i) - 1)).bit_count()])

    def unpack(self, packed: Packed, **given: Any) -> Any:
        mask, at, values = packed[self._first], self._first + 1, dict(given)
        for i, name in enumerate(self.fields):
            if mask >> i & 1:
                values[name] = self._out(i, packed[at])
                at += 1
            else:
                values[name] = self._fresh(i)
        return self.model.model_construct(**values)

    def json_record(self, packed: Packed) -> dict[str, Any]:
        """The packed fields as ``model_dump(mode="json")`` gives them (datetimes in ISO
        form), without making the model: a compaction writes every record of a user."""
        mask, at, record = packed[self._first], self._first + 1, {}
        for i, name in enumerate(self.fields):
            if mask >> i & 1:
                value, convert = packed[at], self._to_json[i]
                record[name] = convert(value) if convert is not None and value is not None \
                    else value
                at += 1
            else:
                record[name] = self._json_defaults[i]
        return record

    def _fresh(self, i: int) -> Any:
        default = self._defaults[i]
        return [] if default == () and self._lists[i] else default

    def _out(self, i: int, value: Any) -> Any:
        return list(value) if self._lists[i] and isinstance(value, tuple) else value


def _kinds(annotation: Any) -> list[Any]:
    """The types a field's annotation allows, None aside."""
    if get_origin(annotation) in (Union, UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """How a value of a field's type (its None aside) becomes a JSON value."""
    kinds = _kinds(annotation)
    kind = get_origin(kinds[0]) or kinds[0] if len(kinds) == 1 else None
    if kind is None or not isinstance(kind, type):
        return None
    if issubclass(kind, datetime | list | tuple | Enum | BaseModel):
        return _json_value
    return None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def _is_list(annotation: Any) -> bool:
    return any(get_origin(kind) is list for kind in _kinds(annotation))


class Records:
    """The codecs of every node label and of edges (endpoints given by their place)."""

    def __init__(self) -> None:
        self.nodes = {label: Codec(cls, skip=("embedding",), tag=(label,))
                      for label, cls in NODE_TYPES.items()}
        self.edge = Codec(Edge, skip=("source", "target", "user_id"))

    def pack_node(self, node: Node, strings: Strings) -> Packed:
        return self.nodes[node.label].pack(node, strings)

    def node(self, packed: Packed) -> Node:
        node: Node = self.nodes[packed[0]].unpack(packed)
        return node

    def node_value(self, packed: Packed, name: str) -> Any:
        """One field of a packed node (``AttributeError`` when its label has none)."""
        return self.nodes[packed[0]].value(packed, name)

    def node_json(self, packed: Packed) -> dict[str, Any]:
        """A packed node's fields as JSON values (``Codec.json_record``)."""
        return self.nodes[packed[0]].json_record(packed)

    def edge_json(self, packed: Packed, source: str, target: str, user_id: str
                  ) -> dict[str, Any]:
        """A packed edge as ``Edge.model_dump(mode="json")`` gives it."""
        return {**self.edge.json_record(packed), "source": source, "target": target,
                "user_id": user_id}

    def pack_edge(self, edge: Edge, strings: Strings) -> Packed:
        return self.edge.pack(edge, strings)

    def edge_of(self, packed: Packed, source: str, target: str, user_id: str) -> Edge:
        edge: Edge = self.edge.unpack(packed, source=source, target=target, user_id=user_id)
        return edge
