"""``personavlm eval locomo``: LoCoMo QA, every system side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.locomo_eval import DEFAULT_SYSTEMS, LocomoOptions
from evals.locomo_eval import run as run_locomo
from evals.system_names import ALL_SYSTEMS
from personavlm.commands.options import add_model_options, default_locomo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = default_locomo()
    parser.add_argument("--data", type=Path, default=data, required=data is None,
                        help="LoCoMo JSON (default $PERSONA_DATA_DIR/locomo/locomo_dev.json)")
    parser.add_argument("--conversations", nargs="+", default=[], help="sample ids")
    parser.add_argument("--limit", type=int, default=None,
                        help="questions per conversation, taken in turn from each category")
    parser.add_argument("--systems", nargs="+", choices=ALL_SYSTEMS, default=None)
    parser.add_argument("--window", type=int, default=8192,
                        help="model window in tokens that full-context fills")
    parser.add_argument("--out", type=Path, default=Path("results/eval-locomo.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="only aggregate the answers already logged for --out")
    parser.add_argument("--raw-turns-only", action="store_true",
                        help="do not consolidate sessions: ours answers from raw turns only "
                             "(quicker, but not the memory ours normally has)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="consolidate again the sessions an earlier run logged as failed "
                             "(by default a resumed run skips them)")
    parser.add_argument("--first-round-recall", action="store_true",
                        help="also score the first retrieval round of the ranked systems on "
                             "every question with evidence (model-free; ~15 min for the "
                             "five dev conversations on two cores)")
    parser.add_argument("--judge-provider", choices=("llamacpp", "hf", "openai"), default="",
                        help="grade every answer with this judge model (LLM-judge accuracy)")
    parser.add_argument("--judge-model", default="",
                        help="the judge's GGUF path, hf model dir or served model name")
    parser.add_argument("--judge-base-url", default="",
                        help="the judge's OpenAI-compatible endpoint")
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    run_locomo(LocomoOptions(
        data=args.data, out=args.out, systems=tuple(args.systems or DEFAULT_SYSTEMS),
        conversations=tuple(args.conversations), limit=args.limit,
        provider=args.provider, model=args.model, base_url=args.base_url,
        window_tokens=args.window, report_only=args.report_only,
        first_round=args.first_round_recall, judge_provider=args.judge_provider,
        judge_model=args.judge_model, judge_base_url=args.judge_base_url,
        retry_failed=args.retry_failed, raw_turns_only=args.raw_turns_only))
    return 0
