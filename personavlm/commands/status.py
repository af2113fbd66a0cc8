"""``personavlm status``: a user's memory work in words (or JSON), and any damage."""

from __future__ import annotations

import argparse
import json

from memory_graph.errors import StoreUnreadableError
from memory_work.outstanding import work_status
from personavlm.commands.damage import damage_line, damaged
from personavlm.commands.options import add_agent_options, context_of
from personavlm.commands.reading import read_memory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print it as JSON (fields in docs/agent.md)")
    add_agent_options(parser)


def counts(numbers: dict[str, int]) -> str:
    return ", ".join(f"{number} {name}" for name, number in numbers.items()) or "none"


def run(args: argparse.Namespace) -> int:
    with read_memory(args) as (memory, store):
        work = work_status(memory, context_of(args))
        broken = damaged(store)
    if args.json:
        work["damaged"] = [
            {"directory": f"users/{name}", "file": error.path, "error": error.reason,
             "byte": None if isinstance(error, StoreUnreadableError) else error.offset}
            for name, error in broken.items()]
        print(json.dumps(work, indent=2))
        return 0
    print(f"turns: {counts(work['turns'])}")
    print(f"sessions: {counts(work['sessions'])}")
    print(f"outstanding: {counts(work['outstanding'])}")
    for running in work["running"]:
        what = "turn" if "turn" in running else "session"
        print(f"  running: {what} {running[what]} by {running['by']} "
              f"until {running['until'][:19]}")
    for failure in work["failures"]:
        what = "turn" if "turn" in failure else "session"
        print(f"  failed: {what} {failure[what]} ({failure['attempts']} attempts): "
              f"{failure['error']}")
    for name, error in broken.items():
        print(damage_line(name, error))
    return 0
