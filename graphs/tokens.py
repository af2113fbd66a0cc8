"""The built-in bearer tokens of the server: a JSON file named by ``PERSONAVLM_AUTH_TOKENS``
that maps each token to the user id it authenticates (``{"<token>": "<user id>"}``)."""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from memory_graph.errors import ConfigurationError

TOKENS_VARIABLE = "PERSONAVLM_AUTH_TOKENS"
#: Client and host names of this machine (the only clients without a tokens file).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def load_tokens(path: str | Path) -> Mapping[str, str]:
    """The token table of a tokens file; a file that is not a non-empty JSON object of
    non-empty strings is a ``ConfigurationError`` (the server does not start)."""
    try:
        table = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{TOKENS_VARIABLE}={path}: cannot read the tokens file: "
                                 f"{exc}") from exc
    if not isinstance(table, dict) or not table or not all(
            isinstance(token, str) and token and isinstance(user, str) and user.strip()
            for token, user in table.items()):
        raise ConfigurationError(f"{TOKENS_VARIABLE}={path} must hold a JSON object "
                                 f'{{"<token>": "<user id>", ...}} with at least one entry')
    return MappingProxyType({token: user.strip() for token, user in table.items()})


def tokens_from_env(environ: Mapping[str, str] | None = None) -> Mapping[str, str] | None:
    """The token table named by ``PERSONAVLM_AUTH_TOKENS``; None when it is unset."""
    path = (os.environ if environ is None else environ).get(TOKENS_VARIABLE, "").strip()
    return load_tokens(path) if path else None


def user_of_token(tokens: Mapping[str, str], authorization: str | None) -> str | None:
    """The user id of a ``Bearer <token>`` header, comparing against every token in
    constant time; None when the header is missing, malformed or unknown."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    supplied = token.strip().encode()
    found = None
    for known, user in tokens.items():
        if hmac.compare_digest(known.encode(), supplied):
            found = user
    return found


def presented(authorization: str | None, api_key: str | None) -> str | None:
    """The authorization a request presents: its ``Authorization`` header, else its
    ``X-Api-Key`` as a bearer token (LangChain's Agent Chat UI and the LangGraph SDK's
    ``api_key`` send the key they are given there)."""
    return authorization or (f"Bearer {api_key}" if api_key else None)
