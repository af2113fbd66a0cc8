"""Keeps web pages out of the server (``http.app`` in langgraph.json).

Without a tokens file the server trusts every loopback client, and a browser on the same
machine is one: any page it shows could send requests there (a plain cross-origin POST
with a ``text/plain`` body needs no CORS preflight) or rebind its own host name to
127.0.0.1 and read the answers. So in that mode every request, the meta routes
included, must name a loopback ``Host``, come from no other origin than a loopback one
(``Origin``, ``Sec-Fetch-Site``) and carry a JSON body if any. In either mode a body is
JSON (the API takes nothing else), and with tokens ``/metrics`` needs one (it tells
about the server's work; ``/ok`` and ``/info`` stay open for health checks and UIs).

A pure ASGI middleware, so it runs before LangGraph's CORS middleware and routes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware

from graphs.tokens import LOOPBACK_HOSTS, presented, tokens_from_env, user_of_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Routes that need a token when the server has tokens (the rest of the API is
#: authenticated by ``graphs.auth``; ``/ok`` and ``/info`` stay open).
TOKEN_ONLY_META_ROUTES = ("/metrics",)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def _hostname(value: str) -> str:
    """The host name of a ``Host`` header or an origin (no port, no brackets)."""
    parsed = urlsplit(value if "//" in value else f"//{value}")
    return (parsed.hostname or "").lower()


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                          and media.endswith("+json"))


def refusal(method: str, path: str, headers: Mapping[str, str], client_host: str,
            tokens: Mapping[str, str] | None) -> Refusal | None:
    """Why a request must be refused before it reaches LangGraph; None when it may go on.
    ``headers`` have lower-case names; ``tokens`` is None in the unauthenticated mode."""
    method = method.upper()
    if tokens is None:
        if client_host not in LOOPBACK_HOSTS:
            return Refusal(403, "this server runs without authentication and accepts "
                                "loopback clients only")
        if _hostname(headers.get("host", "")) not in LOOPBACK_HOSTS:
            return Refusal(403, "this server runs without authentication and answers only "
                                "requests addressed to a loopback host name")
        origin = headers.get("origin")
        if origin is not None and _hostname(origin) not in LOOPBACK_HOSTS:
            return Refusal(403, "this server runs without authentication and refuses "
                                "requests from web pages of other origins")
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return Refusal(403, "this server runs without authentication and refuses "
                                "cross-site requests")
    elif path.rstrip("/") in TOKEN_ONLY_META_ROUTES and user_of_token(
            tokens, presented(headers.get("authorization"), headers.get("x-api-key"))) is None:
        return Refusal(401, "a valid 'Authorization: Bearer <token>' header is required")
    has_body = (headers.get("content-length", "0").strip() not in ("", "0")
                or "transfer-encoding" in headers)
    if method in BODY_METHODS and has_body and not _is_json(headers.get("content-type", "")):
        return Refusal(415, "request bodies must be JSON (Content-Type: application/json)")
    return None


def _in_process(scope: Scope) -> bool:
    """Whether the server's own in-process client sent this (``langgraph_sdk`` with no URL:
    its transport sets ``root_path`` to ``/noauth``, which no request can set; LangGraph's
    auth middleware lets it through the same way)."""
    root_path = str(scope.get("root_path") or "")
    return root_path == "/noauth" or root_path.startswith("/noauth/")


class LocalGuard:
    """ASGI middleware applying ``refusal`` to every HTTP and WebSocket request."""

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str] | None) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _in_process(scope):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in scope.get("headers") or ()}
        client = scope.get("client") or ("", 0)
        refused = refusal(scope.get("method", "GET"), scope.get("path", ""), headers,
                          str(client[0]), self.tokens)
        if refused is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": refused.detail}).encode()
        await send({"type": "http.response.start", "status": refused.status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def build_app(tokens: Mapping[str, str] | None) -> Starlette:
    """The custom app LangGraph merges its routes into: no routes, only the guard."""
    return Starlette(middleware=[Middleware(LocalGuard, tokens=tokens)])


app = build_app(tokens_from_env())
