"""``personavlm eval visual``: visual memory of a pet (Yo'LLaVA)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.visual import run as run_visual
from personavlm.commands.options import add_model_options, data_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    root = data_dir()
    parser.add_argument("--data", type=Path, required=root is None,
                        default=root / "yollava_bo" if root else None,
                        help="yollava_bo folder (default $PERSONA_DATA_DIR/yollava_bo)")
    parser.add_argument("--name", default="bo", help="the pet's name (replaces <sks>)")
    parser.add_argument("--out", type=Path, default=Path("results/eval-visual.json"))
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    return run_visual(args.data, args.name, args.out, args.provider, args.model,
                      args.base_url)
