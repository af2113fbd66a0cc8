"""``personavlm bench llama``: llama.cpp tokens/s by build, wait policy and processes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals import bench_llama


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build", dest="builds", nargs="+", default=[sys.executable],
                        metavar="PYTHON[=LABEL]",
                        help="interpreters whose llama-cpp-python build to measure "
                             "(default: this one)")
    parser.add_argument("--policies", nargs="+", default=["libgomp-default", "passive"],
                        choices=list(bench_llama.POLICIES))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per process (default: the cores this process may use)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each configuration; the table gives their median")
    parser.add_argument("--out", type=Path, default=Path("results/llama.json"))


def run(args: argparse.Namespace) -> int:
    bench_llama.main(args.out, args.builds, args.policies, args.processes, args.prompt_tokens,
                     args.gen_tokens, args.repeats, args.threads)
    return 0
