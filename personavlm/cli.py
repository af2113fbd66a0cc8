"""The ``personavlm`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphs.context import Context
from memory_graph.backends import BACKENDS
from memory_graph.errors import MemoryGraphError
from providers.chat import CHAT_PROVIDERS
from providers.gguf import ModelFileError


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

    agent = benches.add_parser("agent", help="per-turn latency and tokens of the agent with "
                                             "the offline model")
    agent.add_argument("--out", type=Path, default=Path("results/agent.json"))
    agent.add_argument("--location", type=Path, default=Path("results/bench-agent-memory"))
    _agent_commands(commands)
    return parser


def _agent_options(parser: argparse.ArgumentParser, user: bool = True) -> None:
    if user:
        parser.add_argument("--user", default="default-user", help="user id")
        parser.add_argument("--user-name", default="", help="how to call the user")
    parser.add_argument("--backend", choices=BACKENDS, default="networkx")
    parser.add_argument("--location", default="",
                        help="data dir (networkx) or server URL; default $PERSONAVLM_DATA")
    parser.add_argument("--provider", choices=CHAT_PROVIDERS, default="llamacpp")
    parser.add_argument("--model", default="",
                        help="GGUF path, hf model dir or served model name")
    parser.add_argument("--base-url", default="", help="OpenAI-compatible endpoint")


def _agent_commands(commands: Any) -> None:
    demo = commands.add_parser("demo", help="replay the bundled conversation with the "
                                            "offline model and show what it remembers")
    demo.add_argument("--out", type=Path, default=Path("results/demo"))
    _agent_options(demo, user=False)

    chat = commands.add_parser("chat", help="talk to the assistant (/image PATH, /quit)")
    _agent_options(chat)
    chat.add_argument("--inline", action="store_true",
                      help="extract memories before replying instead of after")

    ingest = commands.add_parser("ingest", help="replay a Persona-MME user_data.json or a "
                                                "LoCoMo file into a user's memory")
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--conversation", default=None, help="LoCoMo sample_id")
    ingest.add_argument("--limit", type=int, default=None, help="first N exchanges only")
    ingest.add_argument("--no-extract", action="store_true",
                        help="store raw turns only (no model calls)")
    _agent_options(ingest)

    ask = commands.add_parser("ask", help="one question, answered from memory, not stored")
    ask.add_argument("question")
    ask.add_argument("--at", default=None, help="when it is asked (default now)")
    _agent_options(ask)

    memories = commands.add_parser("memories", help="list what is remembered about a user")
    memories.add_argument("--as-of", default=None, help="only what was known then")
    memories.add_argument("--json", action="store_true")
    _agent_options(memories)

    forget = commands.add_parser("forget", help="forget a turn, a session or a user")
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument("--turn")
    target.add_argument("--session")
    target.add_argument("--all", action="store_true")
    _agent_options(forget)

    graph = commands.add_parser("graph", help="write the user's memory graph")
    graph.add_argument("--html", type=Path, required=True)
    _agent_options(graph)


def _context(args: argparse.Namespace, **extra: Any) -> Context:
    return Context(user_id=getattr(args, "user", "default-user"),
                   user_name=getattr(args, "user_name", ""), store_backend=args.backend,
                   store_location=args.location, chat_provider=args.provider,
                   chat_model=args.model, chat_base_url=args.base_url, **extra)


def _run_agent_command(args: argparse.Namespace) -> None:
    from personavlm.assistant import Assistant

    if args.command == "demo":
        from personavlm.demo import run_demo

        run_demo(args.out, _context(args))
    elif args.command == "chat":
        from personavlm.repl import chat

        chat(Assistant(_context(args, background_extraction=not args.inline)))
    elif args.command == "ingest":
        from personavlm.ingest import ingest

        ingest(Assistant(_context(args, extract_memories=not args.no_extract)), args.file,
               args.conversation, args.limit)
    elif args.command == "ask":
        out = Assistant(_context(args, update_memory=False)).say(args.question, at=args.at)
        print(out["reply"])
        for memory in out["memories"]:
            print(f"  - round {memory['round']}: {memory['text']}")
    elif args.command == "memories":
        rows = Assistant(_context(args)).memories(as_of=args.as_of)
        if args.json:
            print(json.dumps(rows, indent=2))
        for row in [] if args.json else rows:
            print(f"{(row['date'] or '')[:16]:16}  {row['kind']:10}  {row['text']}")
    elif args.command == "forget":
        Assistant(_context(args)).forget(turn_id=args.turn, session_id=args.session,
                                         everything=args.all)
        print("forgotten")
    elif args.command == "graph":
        from personavlm.graph_html import write_graph_html

        assistant = Assistant(_context(args))
        stats = write_graph_html(assistant.resources.memory, args.user, args.html)
        print(f"wrote {args.html} ({stats['nodes']} nodes, {stats['edges']} edges)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "bench" and args.bench == "retrieval":
            from evals import bench_retrieval

            bench_retrieval.main(args.data, args.out)
        elif args.command == "bench" and args.bench == "agent":
            from evals import bench_agent

            bench_agent.main(args.out, args.location)
        elif args.command == "bench" and args.bench == "store":
            from evals import bench_store

            bench_store.main(args.backend, args.turns, args.out, users=args.users,
                             queries=args.queries, location=args.location)
        else:
            _run_agent_command(args)
    except (MemoryGraphError, FileNotFoundError, ModelFileError, ValueError) as exc:
        print(f"personavlm: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
