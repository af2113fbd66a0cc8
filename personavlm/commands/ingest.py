"""``personavlm ingest``: replay a conversation file into a user's memory."""

from __future__ import annotations

import argparse
from pathlib import Path

from graphs.assistant import Assistant
from personavlm.commands.options import add_agent_options, context_of
from personavlm.ingest import ingest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--conversation", default=None, help="LoCoMo sample_id")
    parser.add_argument("--limit", type=int, default=None, help="first N exchanges only")
    parser.add_argument("--no-extract", action="store_true",
                        help="store raw turns only (no model calls)")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    # The assistant warms up once the file has been read (personavlm.ingest).
    with Assistant(context_of(args, extract_memories=not args.no_extract)) as assistant:
        ingest(assistant, args.file, args.conversation, args.limit)
    return 0
