"""``personavlm eval assistant``: the assistant set, every system side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.assistant_eval import DEFAULT_SYSTEMS, AssistantOptions
from evals.assistant_eval import run as run_assistant
from evals.system_names import ASSISTANT_SYSTEMS
from personavlm.commands.options import add_model_options, data_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    root = data_dir()
    data = root / "assistant" / "dev.json" if root else None
    parser.add_argument("--data", type=Path, default=data, required=data is None,
                        help="assistant-set JSON (default $PERSONA_DATA_DIR/assistant/"
                             "dev.json)")
    parser.add_argument("--dialogues", nargs="+", default=[], help="dialogue ids")
    parser.add_argument("--systems", nargs="+", choices=ASSISTANT_SYSTEMS, default=None)
    parser.add_argument("--window", type=int, default=8192,
                        help="model window in tokens that full-context fills")
    parser.add_argument("--max-reply-tokens", type=int, default=120)
    parser.add_argument("--out", type=Path, default=Path("results/eval-assistant.json"))
    parser.add_argument("--heard-from", type=Path, default=None,
                        help="a previous run's --out: ask the probes again on the memory "
                             "it left, nothing heard again (for changes to replies)")
    parser.add_argument("--report-only", action="store_true",
                        help="only aggregate the dialogues already logged for --out")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    run_assistant(AssistantOptions(
        data=args.data, out=args.out, systems=tuple(args.systems or DEFAULT_SYSTEMS),
        dialogues=tuple(args.dialogues), provider=args.provider, model=args.model,
        base_url=args.base_url, window_tokens=args.window,
        max_reply_tokens=args.max_reply_tokens, report_only=args.report_only,
        heard_from=args.heard_from))
    return 0
