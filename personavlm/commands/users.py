"""``personavlm users``: the users whose memories the store holds."""

from __future__ import annotations

import argparse
import json

from personavlm.commands.options import add_agent_options
from personavlm.commands.reading import read_memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help='print ["<user id>", ...]')
    add_agent_options(parser, user=False)


def run(args: argparse.Namespace) -> int:
    with read_memory(args) as (memory, _store):
        ids = memory.users()
    print(json.dumps(ids) if args.json else "\n".join(ids) or "(no users)")
    return 0
