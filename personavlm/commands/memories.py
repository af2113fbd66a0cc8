"""``personavlm memories``: what is remembered about a user, one line each (or JSON)."""

from __future__ import annotations

import argparse
import json

from memory_graph.views import memory_rows, turn_rows
from personavlm.commands.options import add_agent_options
from personavlm.commands.reading import read_memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", default=None, help="only what was known then")
    parser.add_argument("--json", action="store_true",
                        help='print {"memories": [...], "turns": [...]} as JSON')
    parser.add_argument("--ids", action="store_true",
                        help="also list the raw turns with their ids and session ids "
                             "(what forget --turn / --session take)")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with read_memory(args) as (memory, _store):
        rows = memory_rows(memory, args.user, args.as_of)
        if args.json:
            print(json.dumps({"memories": rows, "turns": turn_rows(memory, args.user)},
                             indent=2))
            return 0
        for row in rows:
            print(f"{(row['date'] or '')[:16]:16}  {row['kind']:10}  {row['text']}")
        if args.ids:
            print("\nturns (id, session, time, who, text):")
            for turn in turn_rows(memory, args.user):
                print(f"{turn['id']}  {turn['session_id']}  {turn['at'][:16]}  "
                      f"{turn['role']:9}  {turn['text'][:80]}")
    return 0
