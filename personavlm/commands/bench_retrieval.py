"""``personavlm bench retrieval``: evidence recall@k of the search recipes on LoCoMo."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_retrieval
from personavlm.commands.options import default_locomo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=default_locomo(),
                        help="LoCoMo-format JSON (default: $PERSONA_DATA_DIR/locomo/"
                             "locomo_dev.json, else the small bundled sample)")
    parser.add_argument("--out", type=Path, default=Path("results/retrieval.json"))
    parser.add_argument("--rerank-candidates", type=int, nargs="*", default=[], metavar="N",
                        help="also measure the default recipe reranking N candidates "
                             "(it reranks 40)")
    parser.add_argument("--methods", nargs="+", default=None, metavar="RECIPE",
                        help="the recipes to compare (default: bm25 dense hybrid "
                             "hybrid_graph)")
    parser.add_argument("--turns-per-user", type=int, default=0, metavar="N",
                        help="fill each user's store to N turns with the other "
                             "conversations' turns (search latency at a user's size)")


def run(args: argparse.Namespace) -> int:
    bench_retrieval.main(args.data, args.out, rerank_candidates=tuple(args.rerank_candidates),
                         turns_per_user=args.turns_per_user,
                         methods=tuple(args.methods or bench_retrieval.METHODS))
    return 0
