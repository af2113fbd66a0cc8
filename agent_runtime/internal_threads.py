"""The server's own threads: where each user's memory work waits (``nodes.queue_memory_work``).

Their ids are derived from the user, the kind of work and the server's internal key
(HMAC-SHA256), so no client can name one: not to create it first (which made every run of
that user fail, when the ids were ``uuid5("personavlm:<user>:extract")``), not to learn
from a 409 whether a user ever talked to the server.

They are the server's, not the user's. The server reaches them through LangGraph's
in-process client (``langgraph_sdk.get_client()`` without a URL) from inside a run of the
user: its requests skip authentication (langgraph_api mounts them under ``/noauth``) but
carry the run's caller (its routes take the user from the run's auth context), so the
handlers of ``graphs.auth`` see the caller's identity. For one of the caller's own
memory-work threads they stamp and filter the owner ``server_owner`` instead, which no
client identity is, so these threads and their runs are in no client's thread or run
lists, and nothing of the key is in any metadata.

The key is ``PERSONAVLM_INTERNAL_KEY``, else one made at the first start and kept in the
data home (``internal.key``, readable by the server's user only): the threads keep their
ids across restarts, so a restarted server queues on them again and forgetting everything
finds them."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from agent_runtime.context import data_home
from memory_graph.errors import ConfigurationError

KEY_VARIABLE = "PERSONAVLM_INTERNAL_KEY"
KEY_FILE = "internal.key"
#: The kinds of memory work, one thread each per user: the work of the last turns, and
#: the consolidation after a session gap.
MEMORY_WORK = ("extract", "idle")


def _mac(key: str, *parts: str) -> bytes:
    if not key:
        raise ConfigurationError("the server's internal key is empty: ids derived from it "
                                 "could be guessed")
    return hmac.new(key.encode(), json.dumps(parts).encode(), hashlib.sha256).digest()


def memory_thread(key: str, user_id: str, kind: str) -> str:
    """The thread that queues one kind of memory work of one user."""
    return str(uuid.UUID(bytes=_mac(key, "thread", user_id, kind)[:16], version=4))


def server_owner(key: str) -> str:
    """The owner stamped on the server's threads and runs: derived from the key, so no
    client identity (a tokens file's user id, a JWT subject) can be it."""
    return "personavlm-server:" + _mac(key, "owner").hex()[:32]


def thread_owner(key: str, identity: str, thread_id: object) -> str:
    """Who owns the thread a request of ``identity`` names: the server for one of that
    caller's memory-work threads, else the caller."""
    if thread_id is not None and str(thread_id) in {
            memory_thread(key, identity, kind) for kind in MEMORY_WORK}:
        return server_owner(key)
    return identity


def internal_key(environ: Mapping[str, str] | None = None) -> str:
    """``PERSONAVLM_INTERNAL_KEY``, else the key kept in the data home (made now if there is
    none: random, written whole or not at all, readable by this user only)."""
    env = os.environ if environ is None else environ
    given = env.get(KEY_VARIABLE, "").strip()
    if given:
        return given
    path = data_home(env) / KEY_FILE
    if not path.exists():
        _make_key(path)
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ConfigurationError(f"{path} is empty: remove it (a new key is made) or set "
                                 f"{KEY_VARIABLE}")
    return key


def _make_key(path: Path) -> None:
    """Write a new key to ``path`` unless another process got there first (``os.link``
    fails then, and both use that process's key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)
