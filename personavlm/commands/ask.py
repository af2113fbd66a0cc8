"""``personavlm ask``: one question, answered from memory, not stored."""

from __future__ import annotations

import argparse

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of
from personavlm.waiting import answer_with_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question")
    parser.add_argument("--at", default=None, help="when it is asked (default now)")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with Assistant(context_of(args, update_memory=False)) as assistant:
        assistant.warm_up()
        out = answer_with_progress(assistant, args.question, at=args.at)
        print(out["reply"])
        for memory in out["memories"]:
            print(f"  - round {memory['round']}: {memory['text']}")
    return 0
