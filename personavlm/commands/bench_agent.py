"""``personavlm bench agent``: per-turn latency and tokens of the agent."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_agent
from personavlm.demo import load_demo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("results/agent.json"))
    parser.add_argument("--location", type=Path, default=Path("results/bench-agent-memory"))
    parser.add_argument("--turns", type=int, default=None,
                        help="the first N turns of the demo's history (default: all of it)")
    parser.add_argument("--extraction-window", type=int, default=None, metavar="N",
                        help="user turns one extraction call reads (default: the agent's)")


def run(args: argparse.Namespace) -> int:
    overrides = ({} if args.extraction_window is None
                 else {"extraction_window": args.extraction_window})
    bench_agent.main(args.out, args.location, *load_demo(), turns=args.turns, **overrides)
    return 0
