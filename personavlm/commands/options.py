"""Options several commands share, and the agent's ``Context`` they make."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from agent_runtime.context import Context
from memory_graph.backends import BACKENDS
from providers.chat import CHAT_PROVIDERS


def data_dir() -> Path | None:
    """``$PERSONA_DATA_DIR``, where the evaluation data is, when it is set."""
    root = os.environ.get("PERSONA_DATA_DIR")
    return Path(root) if root else None


def default_locomo() -> Path | None:
    """``$PERSONA_DATA_DIR/locomo/locomo_dev.json`` when that variable is set."""
    root = data_dir()
    return root / "locomo" / "locomo_dev.json" if root else None


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", choices=CHAT_PROVIDERS, default="llamacpp")
    parser.add_argument("--model", default="",
                        help="GGUF path, hf model dir or served model name")
    parser.add_argument("--base-url", default="", help="OpenAI-compatible endpoint")


def add_agent_options(parser: argparse.ArgumentParser, user: bool = True) -> None:
    if user:
        parser.add_argument("--user", default="default-user", help="user id")
        parser.add_argument("--user-name", default="", help="how to call the user")
    parser.add_argument("--backend", choices=BACKENDS, default="networkx")
    parser.add_argument("--location", default="",
                        help="data dir (networkx) or server URL; default "
                             "$PERSONAVLM_DATA/memory, else ~/.local/share/personavlm/memory "
                             "(where Memory() and the agent keep it)")
    add_model_options(parser)


def context_of(args: argparse.Namespace, **extra: Any) -> Context:
    """The agent's context from the agent options (``add_agent_options``)."""
    return Context(user_id=getattr(args, "user", "default-user"),
                   user_name=getattr(args, "user_name", ""), store_backend=args.backend,
                   store_location=args.location, chat_provider=args.provider,
                   chat_model=args.model, chat_base_url=args.base_url, **extra)
