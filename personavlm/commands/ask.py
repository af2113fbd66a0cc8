"""``personavlm ask``: one question, answered from memory, not stored."""

from __future__ import annotations

import argparse

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of
from personavlm.waiting import Spinner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question")
    parser.add_argument("--at", default=None, help="when it is asked (default now)")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with Assistant(context_of(args, update_memory=False)) as assistant:
        assistant.warm_up()
        with Spinner("reading the message") as spinner:
            out = assistant.say_streaming(args.question, lambda _: None, at=args.at,
                                          on_stage=spinner.stage)
        print(out["reply"])
        for memory in out["memories"]:
            print(f"  - round {memory['round']}: {memory['text']}")
    return 0
