"""``personavlm eval extraction``: memories of labelled dialogues, precision and recall."""

from __future__ import annotations

import argparse
from pathlib import Path

from agent_runtime.context import DEFAULT_EXTRACTION_WINDOW
from evals.extraction_eval import run as run_extraction
from personavlm.commands.options import add_model_options
from providers.chat import make_chat_model
from providers.embeddings import default_embedder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("results/eval-extraction.json"))
    parser.add_argument("--extraction-window", type=int, default=DEFAULT_EXTRACTION_WINDOW,
                        metavar="N", help="user turns one extraction call reads (default "
                                          f"{DEFAULT_EXTRACTION_WINDOW}, the agent's)")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    run_extraction(make_chat_model(args.provider, args.model, args.base_url),
                   default_embedder(), args.out, window=args.extraction_window)
    return 0
