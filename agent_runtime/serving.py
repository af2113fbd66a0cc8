"""Who a run is for, and what a run may choose.

In-process callers (Python, the CLI) are trusted: a run's ``Context`` is used as given.
Served by the LangGraph server, every caller is a stranger (``ServedCaller``): the user is
the authenticated identity the server attached to the run, and the server's resources
(store, media directory, models, URLs) come from the server's environment
(``ServerSettings``, the ``PERSONAVLM_*`` variables), never from the run's context. A
context that names another user or sets a server-owned field is refused before anything is
created, opened or connected. The same check runs twice on the server: in the run-creation
auth handler (``graphs/auth.py``, an HTTP 403) and in the graph itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, make_dataclass, replace
from pathlib import Path
from typing import Any, Protocol, get_type_hints

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from memory_graph.backends import BACKENDS
from memory_graph.errors import ConfigurationError, PersonaVLMError
from providers.chat import CHAT_PROVIDERS

#: Context fields that name server resources: set only by the server's configuration.
SERVER_OWNED_FIELDS = ("store_backend", "store_location", "chat_provider", "chat_model",
                       "chat_base_url", "embedding_model")
#: Granted by ``graphs/auth.py`` when the server runs without authentication (no tokens
#: file; loopback clients only): then a run's ``user_id`` is taken from its context.
UNAUTHENTICATED_LOCAL = "personavlm:unauthenticated-local"
#: The environment variable of each server-owned setting.
SETTING_VARIABLES = {
    "store_backend": "PERSONAVLM_STORE_BACKEND",
    "store_location": "PERSONAVLM_STORE_LOCATION",
    "media_dir": "PERSONAVLM_MEDIA_DIR",
    "chat_provider": "PERSONAVLM_CHAT_PROVIDER",
    "chat_model": "PERSONAVLM_CHAT_MODEL",
    "chat_base_url": "PERSONAVLM_CHAT_BASE_URL",
    "embedding_model": "PERSONAVLM_EMBEDDING_MODEL",
}


def _served_context() -> type[Any]:
    """``Context`` without the server-owned fields: the context schema of the served graph,
    so that Studio's form and the server's schema offer only what a client may set (the
    server also drops context keys its schema lacks; the run-creation auth handler refuses
    a server-owned one first, loudly)."""
    hints = get_type_hints(Context)
    kept = [(spec.name, hints[spec.name], field(default=spec.default, metadata=spec.metadata))
            for spec in fields(Context) if spec.name not in SERVER_OWNED_FIELDS]
    served = make_dataclass("ServedContext", kept, kw_only=True)
    served.__module__ = __name__
    served.__doc__ = "What a client may set of a served run's context (``Context``)."
    return served


ServedContext = _served_context()


class AccessDeniedError(PersonaVLMError, PermissionError):
    """A served run asked for something its caller may not have: another user's memory,
    or a server resource (store, model file, URL) chosen by the client."""


@dataclass(frozen=True)
class ServerSettings:
    """The server's own resources, read once from its environment (``from_env``)."""

    store_backend: str = "networkx"
    store_location: str = ""
    media_dir: str = ""
    chat_provider: str = "llamacpp"
    chat_model: str = ""
    chat_base_url: str = ""
    embedding_model: str = Context.embedding_model

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if environ is None else environ
        values = {name: env[variable].strip() for name, variable in SETTING_VARIABLES.items()
                  if env.get(variable, "").strip()}
        settings = cls(**values)
        if settings.store_backend not in BACKENDS:
            raise ConfigurationError(f"PERSONAVLM_STORE_BACKEND must be one of "
                                     f"{', '.join(BACKENDS)}, not {settings.store_backend!r}")
        if settings.chat_provider not in CHAT_PROVIDERS:
            raise ConfigurationError(f"PERSONAVLM_CHAT_PROVIDER must be one of "
                                     f"{', '.join(CHAT_PROVIDERS)}, not "
                                     f"{settings.chat_provider!r}")
        return settings

    @property
    def media_path(self) -> Path | None:
        return Path(self.media_dir).expanduser() if self.media_dir else None

    def apply(self, context: Context) -> Context:
        """``context`` with every server-owned field taken from these settings."""
        return replace(context, **{name: getattr(self, name) for name in SERVER_OWNED_FIELDS})


def _defaults() -> dict[str, Any]:
    return {spec.name: spec.default for spec in fields(Context)}


def refusals(requested: Mapping[str, Any], identity: str | None) -> list[str]:
    """Why a served run asking for ``requested`` (its context, as the client sent it) must
    be refused: server-owned fields set to anything but their default, or a ``user_id``
    other than the caller's ``identity`` (None: the unauthenticated local mode, where the
    context names the user). Empty when the run may go ahead."""
    defaults = _defaults()
    reasons = [f"{name} is the server's to choose (set {SETTING_VARIABLES[name]} on the "
               f"server); a run's context cannot set it"
               for name in SERVER_OWNED_FIELDS
               if name in requested and requested[name] not in (None, defaults[name])]
    asked_user = requested.get("user_id")
    if identity is not None and asked_user not in (None, "", defaults["user_id"], identity):
        reasons.append(f"this run is authenticated as {identity!r}; its context cannot name "
                       f"user {asked_user!r}")
    return reasons


class RunPolicy(Protocol):
    #: Whether images may be given as file paths (read from this machine's disk).
    image_paths_allowed: bool
    #: The context schema of the graphs run under it (what a caller may set).
    context_schema: type[Any]
    #: Whether memory work goes to the LangGraph server's run queue (durable across
    #: restarts) instead of this process's background worker.
    queues_memory_work: bool

    def context(self, runtime: Runtime[Context]) -> Context:
        """The context a node works with."""


class TrustedCaller:
    """In-process use: one trusted caller, whose context is used as given."""

    image_paths_allowed = True
    queues_memory_work = False
    context_schema: type[Any] = Context

    def context(self, runtime: Runtime[Context]) -> Context:
        return runtime.context


class ServedCaller:
    """Served use: the user is the authenticated caller, the resources are the server's."""

    image_paths_allowed = False
    queues_memory_work = True
    context_schema: type[Any] = ServedContext

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings

    def context(self, runtime: Runtime[Any]) -> Context:
        requested = runtime.context if runtime.context is not None else ServedContext()
        # The caller: a client, or, for the memory work the server queues through its
        # in-process client, the caller of the run that queued it (nodes.queue_memory_work).
        user = runtime.server_info.user if runtime.server_info is not None else None
        if user is None or not getattr(user, "is_authenticated", True):
            raise AccessDeniedError("a served run needs an authenticated caller")
        local = UNAUTHENTICATED_LOCAL in tuple(getattr(user, "permissions", ()) or ())
        identity = None if local else str(user.identity)
        given = {spec.name: getattr(requested, spec.name) for spec in fields(requested)}
        reasons = refusals(given, identity)
        if reasons:
            raise AccessDeniedError("; ".join(reasons))
        known = {spec.name for spec in fields(Context)}
        context = self.settings.apply(Context(**{k: v for k, v in given.items() if k in known}))
        return context if identity is None else replace(context, user_id=identity)
