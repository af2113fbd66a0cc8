"""``personavlm eval persona-mme``: the Persona-MME protocol, every system side by side."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from agent_runtime.context import ExtractionMode
from evals.persona_mme import PersonaMMEOptions
from evals.persona_mme import run as run_persona
from evals.system_names import ALL_SYSTEMS
from personavlm.commands.options import add_model_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True,
                        help="directory the questions' data_path values are relative to")
    parser.add_argument("--systems", nargs="+", choices=ALL_SYSTEMS, default=list(ALL_SYSTEMS))
    parser.add_argument("--extraction", choices=get_args(ExtractionMode), default="turn",
                        help="memory extraction while replaying: per turn (the paper) or "
                             "one call per session (faster)")
    parser.add_argument("--window", type=int, default=8192)
    parser.add_argument("--out", type=Path, default=Path("results/eval-persona-mme.json"))
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    run_persona(PersonaMMEOptions(
        questions=args.questions, root=args.root, out=args.out, systems=tuple(args.systems),
        extraction_mode=args.extraction, provider=args.provider, model=args.model,
        base_url=args.base_url, window_tokens=args.window))
    return 0
