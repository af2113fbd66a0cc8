"""The ``personavlm`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from memory_graph.backends import BACKENDS
from memory_graph.errors import MemoryGraphError


def _default_locomo() -> Path | None:
    """``$PERSONA_DATA_DIR/locomo/locomo_dev.json`` when that variable is set."""
    root = os.environ.get("PERSONA_DATA_DIR")
    return Path(root) / "locomo" / "locomo_dev.json" if root else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="personavlm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="benchmarks (print a table, write JSON + PNG)")
    benches = bench.add_subparsers(dest="bench", required=True)

    retrieval = benches.add_parser(
        "retrieval", help="evidence recall@k of bm25, dense and hybrid search on LoCoMo")
    retrieval.add_argument("--data", type=Path, default=_default_locomo(),
                           help="LoCoMo-format JSON (default: $PERSONA_DATA_DIR/locomo/"
                                "locomo_dev.json, else the small bundled sample)")
    retrieval.add_argument("--out", type=Path, default=Path("results/retrieval.json"))

    store = benches.add_parser("store", help="write throughput and search latency of a backend")
    store.add_argument("--backend", choices=BACKENDS, default="networkx")
    store.add_argument("--location", default=None,
                       help="server URL (falkordb/neo4j); default: start a private FalkorDB "
                            "server for falkordb, $NEO4J_URI for neo4j")
    store.add_argument("--turns", type=int, nargs="+", default=[1000, 10000])
    store.add_argument("--users", type=int, default=10)
    store.add_argument("--queries", type=int, default=200)
    store.add_argument("--out", type=Path, default=Path("results/store.json"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "bench" and args.bench == "retrieval":
            from evals import bench_retrieval

            bench_retrieval.main(args.data, args.out)
        elif args.command == "bench" and args.bench == "store":
            from evals import bench_store

            bench_store.main(args.backend, args.turns, args.out, users=args.users,
                             queries=args.queries, location=args.location)
    except (MemoryGraphError, FileNotFoundError) as exc:
        print(f"personavlm: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
