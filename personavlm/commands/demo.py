"""``personavlm demo``: the main job: replay the bundled conversation with the offline
model and show what it remembers."""

from __future__ import annotations

import argparse
from pathlib import Path

from personavlm.commands.options import add_agent_options, context_of
from personavlm.demo import run_demo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("results/demo"))
    add_agent_options(parser, user=False)


def run(args: argparse.Namespace) -> int:
    run_demo(args.out, context_of(args))
    return 0
