"""``personavlm bench tools``: how reliably a chat model calls the memory tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_tools
from personavlm.commands.options import add_model_options
from providers.chat import make_chat_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    parser.add_argument("--out", type=Path, default=Path("results/bench-tools.json"))


def run(args: argparse.Namespace) -> int:
    bench_tools.main(make_chat_model(args.provider, args.model, args.base_url), args.out)
    return 0
