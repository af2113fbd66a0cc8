"""``personavlm eval personality``: Big Five inference on scripted dialogues."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.personality_eval import run as run_personality
from personavlm.commands.options import add_model_options
from providers.chat import make_chat_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("results/eval-personality.json"))
    parser.add_argument("--inference", choices=("markers", "model"), default="markers",
                        help="how traits are observed (Context.personality_inference)")
    parser.add_argument("--assistant-data", type=Path, default=None,
                        help="also replay the assistant set's dialogues and score their "
                             "trait labels (e.g. ../shared/data/assistant/dev.json)")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    chat = (make_chat_model(args.provider, args.model, args.base_url)
            if args.inference == "model" else None)
    run_personality(chat, args.out, args.inference, args.assistant_data)
    return 0
