"""Damage of the embedded store in words, as ``status`` and ``repair`` print it."""

from __future__ import annotations

from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import MissingWritesError, StoreCorruptedError, StoreUnreadableError
from memory_graph.store import GraphStore


def damaged(store: GraphStore) -> dict[str, StoreCorruptedError]:
    """The embedded store's user directories that cannot be opened, every user's files
    checked (a server store reports its own failures as errors)."""
    return store.scan_damage() if isinstance(store, NetworkxStore) else {}


def damage_line(name: str, error: StoreCorruptedError) -> str:
    where = "" if isinstance(error, StoreUnreadableError) else f" at byte {error.offset}"
    return f"damaged: users/{name}: {error.path}{where}: {error.reason}"


def unrecovered_line(name: str, error: MissingWritesError) -> str:
    if error.first_seq is None or error.last_seq is None:
        what = "records before the end of the file"
    elif error.first_seq == error.last_seq:
        what = f"record {error.first_seq}"
    else:
        what = f"records {error.first_seq} to {error.last_seq}"
    return f"could not recover users/{name}: {what} ({error.path}: {error.reason})"
