"""``personavlm bench faults``: acknowledged writes against what survives each fault."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_faults


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each fault class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/faults.json"))


def run(args: argparse.Namespace) -> int:
    bench_faults.main(args.rounds, args.out, args.seed)
    return 0
