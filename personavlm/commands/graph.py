"""``personavlm graph``: the user's memory as an HTML page, and a screenshot of it."""

from __future__ import annotations

import argparse
from pathlib import Path

from personavlm.commands.options import add_agent_options
from personavlm.commands.reading import read_memory
from personavlm.graph_html import write_graph_html
from personavlm.screenshot import screenshot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", type=Path, required=True, help="the page to write")
    parser.add_argument("--png", type=Path,
                        help="also a screenshot of it (headless Chromium from the PATH or "
                             "$PERSONAVLM_CHROMIUM)")
    parser.add_argument("--png-height", type=int, default=1600,
                        help="screenshot height in CSS pixels (width 1200)")
    add_agent_options(parser)


def run(args: argparse.Namespace) -> int:
    with read_memory(args) as (memory, _store):
        stats = write_graph_html(memory, args.user, args.html)
    print(f"wrote {args.html} ({stats['nodes']} nodes, {stats['edges']} edges)")
    if args.png:
        print(f"wrote {screenshot(args.html, args.png, height=args.png_height)}")
    return 0
