"""``personavlm bench store``: write throughput and search latency of a backend, or the
time to open a store of many users."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals import bench_store
from memory_graph.backends import BACKENDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="networkx")
    parser.add_argument("--location", default=None,
                        help="server URL (falkordb/neo4j); default: start a private "
                             "FalkorDB server for falkordb, $NEO4J_URI for neo4j")
    parser.add_argument("--turns", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("results/store.json"))
    parser.add_argument("--open-many", type=int, nargs=2, metavar=("USERS", "TURNS"),
                        help="instead: write USERS users of TURNS turns to the embedded "
                             "store and time opening it to read one user, in process and "
                             "by `personavlm memories`")


def run(args: argparse.Namespace) -> int:
    if args.open_many:
        users, turns_each = args.open_many
        bench_store.open_many(users, turns_each, args.out)
    else:
        bench_store.main(args.backend, args.turns, args.out, users=args.users,
                         queries=args.queries, location=args.location)
    return 0
