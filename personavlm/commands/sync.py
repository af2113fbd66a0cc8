"""``personavlm sync``: run a user's outstanding memory work to completion."""

from __future__ import annotations

import argparse

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with Assistant(context_of(args)) as assistant:
        counts = assistant.sync()
        print(f"sync: {counts}")
    return 1 if counts["turns failed"] or counts["sessions failed"] else 0
