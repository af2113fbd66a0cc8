"""Per-turn cost of the agent with the offline model: reply latency with memory
extraction in the background vs inline, model calls and tokens of extraction, and the
prompt tokens of memory-backed answers.

The bundled demo conversation is replayed twice, into two fresh users: once with
background extraction (the user is assumed to pause until memory work, and the warming of
the next reply prompt, are done before the next message; ``background_work_p50_s`` says
how long that pause is) and once inline. Then the follow-up
questions are asked with memory updates off."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.report import print_table, save_plot, write_json
from graphs import Context
from graphs.assistant import Assistant


def _replay(assistant: Assistant, turns: list[dict[str, Any]], root: Path, label: str
            ) -> list[dict[str, Any]]:
    rows = []
    for turn in tqdm(turns, desc=label, unit="turn", leave=False):
        images = [{"path": str(root / i["path"]), "caption": i.get("caption", "")}
                  for i in turn.get("images", [])]
        start = time.perf_counter()
        out = assistant.say(turn["text"], images=images, at=turn["at"])
        seconds = time.perf_counter() - start
        assistant.wait()
        idle = time.perf_counter() - start - seconds
        extraction = out.get("extraction", {}).get("cost", {})
        rows.append({"seconds": seconds, "background_seconds": idle, "cost": out["cost"],
                     "extraction": extraction})
    return rows


def _p50(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else float("nan")


def main(out: Path, location: Path, script: dict[str, Any], root: Path) -> dict[str, Any]:
    """Replay ``script`` (the demo conversation; its photos are relative to ``root``)."""
    turns = [t for session in script["sessions"] for t in session]
    base = Context(user_name=script["user_name"], store_location=str(location))
    background = Assistant(replace(base, user_id="bench-background"))
    if background.resources.memory.has_user("bench-background"):
        background.forget(everything=True)
    inline = Assistant(replace(base, user_id="bench-inline", background_extraction=False),
                       agent=background.agent, provider=background.provider)
    if inline.resources.memory.has_user("bench-inline"):
        inline.forget(everything=True)
    background.say("Hello!", at="2024-01-01 08:00")  # load the model before timing
    background.forget(everything=True)

    bg_rows = _replay(background, turns, root, "background extraction")
    in_rows = _replay(inline, turns, root, "inline extraction")
    inline.finish_sessions()
    answers: list[dict[str, Any]] = []
    for question in tqdm(script["questions"], desc="questions", leave=False):
        start = time.perf_counter()
        result = inline.say(question["text"], at=question["at"], update_memory=False)
        answers.append({"seconds": time.perf_counter() - start,
                        "cost": dict(result["cost"]), "reply": result["reply"],
                        "rounds": result["retrieval"]["round"]})

    extraction_calls = [r["extraction"].get("model_calls", 0) for r in in_rows]
    extraction_prompt = [r["extraction"].get("prompt_tokens", 0) for r in in_rows]
    extraction_completion = [r["extraction"].get("completion_tokens", 0) for r in in_rows]
    answer_prompts = [int(a["cost"]["max_prompt_tokens"]) for a in answers]
    summary = {
        "reply_p50_s_background": _p50([r["seconds"] for r in bg_rows]),
        "reply_max_s_background": round(max(r["seconds"] for r in bg_rows), 2),
        "background_work_p50_s": _p50([r["background_seconds"] for r in bg_rows]),
        **{f"reply_{step}_ms_p50": _p50([float(r["cost"].get("ms_by_step", {}).get(step, 0))
                                           for r in bg_rows])
           for step in ("retrieve_decision", "respond")},
        "reply_store_ms_p50": _p50([float(r["cost"]["store_ms"]) for r in bg_rows]),
        "reply_p50_s_inline": _p50([r["seconds"] for r in in_rows]),
        "reply_max_s_inline": round(max(r["seconds"] for r in in_rows), 2),
        "foreground_model_calls_per_turn": _p50(
            [float(r["cost"]["model_calls"]) for r in bg_rows]),
        "extraction_model_calls_per_turn": round(statistics.mean(extraction_calls), 2),
        "extraction_prompt_tokens_per_turn": round(statistics.mean(extraction_prompt), 1),
        "extraction_completion_tokens_per_turn": round(
            statistics.mean(extraction_completion), 1),
        "answer_prompt_tokens_p50": _p50([float(t) for t in answer_prompts]),
        "answer_prompt_tokens_max": max(answer_prompts),
        "answer_p50_s": _p50([a["seconds"] for a in answers]),
    }
    print_table(["measure", "value"], list(summary.items()))
    write_json(out, {"summary": summary, "background": bg_rows, "inline": in_rows,
                     "answers": answers, "turns": len(turns)})
    save_plot(out.with_suffix(".png"), "Reply latency per turn (offline model, 2 cores)",
              {"background extraction": [r["seconds"] for r in bg_rows],
               "inline extraction": [r["seconds"] for r in in_rows]},
              list(range(1, len(turns) + 1)), "turn", "seconds")
    return summary
