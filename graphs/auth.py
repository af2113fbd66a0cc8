"""Authentication and ownership for the LangGraph server (``auth.path`` in langgraph.json).

Built in: static bearer tokens from the JSON file named by ``PERSONAVLM_AUTH_TOKENS``
(``{"<token>": "<user id>"}``). A request without a known token gets 401. Every thread,
run and cron is stamped with its owner and visible only to them; a thread's state is
written only by the graph's runs (no ``update_state``, no ``Command`` that updates or
jumps, no run without input that would continue from a client-shaped checkpoint); store
items live under a namespace that starts with the caller's id; assistants are the server's
(read only). A run (or cron) whose context names another user or sets a server-owned
field, or that asks for a webhook, is refused with 403 before it is created
(``agent_runtime.serving.refusals``; the graph checks again). The server's own memory-work threads
(``agent_runtime.internal_threads``) and their runs are owned by the server, in no client's lists.

Without ``PERSONAVLM_AUTH_TOKENS`` the server runs unauthenticated for local development:
it says so loudly at start, accepts only loopback clients, and takes the user from each
run's context; ``graphs.local_guard`` keeps web pages out of that mode. To use JWT/OIDC
instead, replace ``authenticate`` (docs/deployment.md).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

from langgraph_sdk import Auth

from agent_memory.base_store import AGENT_NAMESPACES
from agent_runtime.internal_threads import internal_key, thread_owner
from agent_runtime.serving import UNAUTHENTICATED_LOCAL, refusals
from graphs.tokens import (
    LOOPBACK_HOSTS,
    TOKENS_VARIABLE,
    presented,
    tokens_from_env,
    user_of_token,
)

LOCAL_IDENTITY = "local"
OWNER_KEY = "owner"
#: Why a client cannot write a thread's state: the agent's channels (the stored turn, the
#: media keys of its photos, the memories) are set by its nodes from what was stored.
STATE_UPDATE_REFUSAL = ("a thread's state is written by the agent's runs only: send a "
                        "message in a run instead of updating the state")

log = logging.getLogger("personavlm.auth")


def _warn_unauthenticated() -> None:
    message = (f"PersonaVLM: {TOKENS_VARIABLE} is not set, so this server runs WITHOUT "
               "AUTHENTICATION: it accepts loopback clients only and takes the user from "
               "each run's context. Set it to a tokens file before serving anyone else "
               "(docs/deployment.md).")
    log.warning(message)
    print(f"\n{'!' * 88}\n{message}\n{'!' * 88}\n", file=sys.stderr, flush=True)


def build_auth(tokens: Mapping[str, str] | None, key_source: Callable[[], str]) -> Auth:
    """The server's ``Auth``: bearer tokens from ``tokens``, or the unauthenticated local
    mode when ``tokens`` is None. ``key_source`` gives the server's internal key, from which
    the ids of its own threads are derived: asked once, at the first request (so importing
    this module makes no key file)."""
    auth = Auth()
    key = functools.cache(key_source)
    if tokens is None:
        _warn_unauthenticated()

    @auth.authenticate
    async def authenticate(authorization: str | None, headers: Mapping[bytes, bytes],
                           scope: dict[str, Any]) -> Auth.types.MinimalUserDict:
        if tokens is None:
            client = scope.get("client") or ("", 0)
            if client[0] not in LOOPBACK_HOSTS:
                raise Auth.exceptions.HTTPException(
                    status_code=403, detail="this server runs without authentication and "
                                            "accepts loopback clients only")
            return {"identity": LOCAL_IDENTITY, "is_authenticated": True,
                    "permissions": [UNAUTHENTICATED_LOCAL]}
        api_key = headers.get(b"x-api-key")
        user = user_of_token(tokens, presented(
            authorization, api_key.decode("latin-1") if api_key else None))
        if user is None:
            raise Auth.exceptions.HTTPException(
                status_code=401, detail="a valid 'Authorization: Bearer <token>' (or "
                                        "'X-Api-Key: <token>') header is required",
                headers={"WWW-Authenticate": "Bearer"})
        return {"identity": user, "is_authenticated": True, "permissions": []}

    def owned(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> Auth.types.FilterType:
        """Stamp ``value`` with its owner (the caller, or the server for one of the
        caller's memory-work threads) and filter by it."""
        owner = thread_owner(key(), ctx.user.identity, value.get("thread_id"))
        metadata = value.get("metadata")
        if not isinstance(metadata, dict):
            metadata = value["metadata"] = {}
        metadata[OWNER_KEY] = owner
        return {OWNER_KEY: owner}

    @auth.on
    async def owned_by_caller(ctx: Auth.types.AuthContext,
                              value: dict[str, Any]) -> Auth.types.FilterType:
        """Threads, runs and crons: stamped with their owner, and only theirs to see."""
        return owned(ctx, value)

    def own_checked_run(ctx: Auth.types.AuthContext, value: dict[str, Any],
                        run: Mapping[str, Any]) -> Auth.types.FilterType:
        """A run (or a cron's runs) as the caller: refused (403) when its context names
        another user or a server resource, or it asks for a webhook; else owned."""
        requested = dict((run.get("config") or {}).get("configurable") or {})
        requested.update(run.get("context") or {})
        reasons = refusals(requested, None if tokens is None else ctx.user.identity)
        if run.get("webhook"):
            reasons.append("webhooks are not accepted: the server connects to no URL a "
                           "client chooses")
        if reasons:
            raise Auth.exceptions.HTTPException(status_code=403, detail="; ".join(reasons))
        return owned(ctx, value)

    @auth.on.threads.create_run
    async def run_as_caller(ctx: Auth.types.AuthContext,
                            value: Auth.types.RunsCreate) -> Auth.types.FilterType:
        run = value.get("kwargs") or {}
        if reason := command_refusal(run.get("command")) or input_refusal(run):
            raise Auth.exceptions.HTTPException(status_code=403, detail=reason)
        return own_checked_run(ctx, value, run)  # type: ignore[arg-type]

    @auth.on.threads.update
    async def update_own_thread(ctx: Auth.types.AuthContext,
                                value: Auth.types.ThreadsUpdate) -> Auth.types.FilterType:
        """A thread's metadata and its runs' cancellation are the owner's to change; its
        state is written by the graph's own runs only (``STATE_UPDATE_REFUSAL``)."""
        if is_state_update(value):
            raise Auth.exceptions.HTTPException(status_code=403, detail=STATE_UPDATE_REFUSAL)
        return owned(ctx, value)  # type: ignore[arg-type]

    @auth.on.crons.create
    async def cron_as_caller(ctx: Auth.types.AuthContext,
                             value: Auth.types.CronsCreate) -> Auth.types.FilterType:
        payload = value.get("payload") or {}
        if reason := command_refusal(payload.get("command")) or input_refusal(payload):
            raise Auth.exceptions.HTTPException(status_code=403, detail=reason)
        return own_checked_run(ctx, value, payload)  # type: ignore[arg-type]

    @auth.on.assistants
    async def assistants_are_the_servers(ctx: Auth.types.AuthContext,
                                         value: dict[str, Any]) -> None:
        if ctx.action not in ("read", "search"):
            raise Auth.exceptions.HTTPException(
                status_code=403, detail="assistants are configured by the server")

    @auth.on.store()
    async def own_namespace(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
        """Store items live under the caller's id: a namespace that does not start with
        it is moved under it, so no read or write reaches another user's items. (In the
        unauthenticated local mode the namespace names the user, as a run's context does.)"""
        namespace = tuple(value.get("namespace") or ())
        if tokens is not None and namespace[:1] != (ctx.user.identity,):
            namespace = value["namespace"] = (ctx.user.identity, *namespace)
        if ctx.action == "put" and namespace[1:2] and namespace[1] in AGENT_NAMESPACES:
            raise Auth.exceptions.HTTPException(
                status_code=403, detail=f"{namespace[:2]!r} holds the memories the agent "
                                        "learned and is read only; put items elsewhere")

    return auth


def is_state_update(value: Mapping[str, Any]) -> bool:
    """Whether a ``threads.update`` event writes a thread's state (``update_state``, bulk
    state updates): the server names only the thread then, where a metadata patch carries
    ``metadata`` and a run's cancellation an ``action``."""
    return "metadata" not in value and not value.get("action")


def command_refusal(command: Any) -> str | None:
    """Why a run's ``Command`` must be refused: one that writes state (``update``) or jumps
    to a node (``goto``) would let a client set what only the graph's nodes set (the
    stored turn, its photos' media keys, the retrieved memories). None when it only
    resumes (or there is none)."""
    if not command:
        return None
    if not isinstance(command, Mapping) or command.get("update") or command.get("goto"):
        return "a run's command may only resume; its state is written by the graph's own nodes"
    return None


def input_refusal(run: Mapping[str, Any]) -> str | None:
    """Why a run without input must be refused: it would go on from the thread's last
    checkpoint, whose state a client may have shaped (a thread can be created with state
    updates, which reach no auth handler); a run with input starts at the graph's start,
    where the agent derives its channels itself. None when there is input or a resume."""
    command = run.get("command")
    if run.get("input") is None and not (isinstance(command, Mapping)
                                         and command.get("resume") is not None):
        return ("a run needs input: the graphs of this server start every run from what "
                "it is given and do not continue from a thread's checkpoint")
    return None


auth = build_auth(tokens_from_env(), internal_key)
