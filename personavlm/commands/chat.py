"""``personavlm chat``: talk to the assistant."""

from __future__ import annotations

import argparse

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of
from personavlm.repl import chat


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_agent_options(parser)
    parser.add_argument("--inline", action="store_true",
                        help="extract memories before replying instead of after")


def run(args: argparse.Namespace) -> int:
    with Assistant(context_of(args, background_extraction=not args.inline)) as assistant:
        assistant.warm_up()
        chat(assistant)
    return 0
