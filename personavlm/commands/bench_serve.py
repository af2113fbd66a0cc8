"""``personavlm bench serve``: the served agent under load."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20, help="concurrent runs per user")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20, help="store searches at once")
    parser.add_argument("--notes", type=int, default=50, help="store items put per user first")
    parser.add_argument("--out", type=Path, default=Path("results/serve.json"))


def run(args: argparse.Namespace) -> int:
    bench_serve.main(args.out, args.users, args.runs, args.searches, args.in_flight,
                     args.notes)
    return 0
