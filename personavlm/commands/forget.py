"""``personavlm forget``: a turn, a session or a user, with every memory and summary their
text reached."""

from __future__ import annotations

import argparse

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--turn", help="a turn id (personavlm memories --ids lists them)")
    target.add_argument("--session", help="a session id")
    target.add_argument("--all", action="store_true", help="everything about the user")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with Assistant(context_of(args)) as assistant:
        forgotten = assistant.forget(turn_id=args.turn, session_id=args.session,
                                     everything=args.all)
        print(f"forgotten: {forgotten}")
    return 0
