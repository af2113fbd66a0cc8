"""What one turn of the agent costs with the offline model, in the foreground (what the user
waits for) and in the background (memory work after the reply): model calls by kind,
prompt and completion tokens, seconds to the reply's first token and to its end, seconds
of background work per turn, and seconds per session consolidation.

First, the process's first reply ("Hello!") is timed from the moment the models start
loading (``Assistant.warm_up``). Then the demo's history (or its first ``turns``) is
replayed as a person would talk, through
``Assistant.say_streaming`` with memory work in the background; the user is taken to
pause until that work (and the warming of the next reply's prompt) is done before the
next message, so each turn's background work is measured apart. The last session is then
consolidated, and the demo's follow-up questions are asked with memory updates off.

Every model call is seen by a LangChain callback on the chat model (its ``personavlm:
<step>`` tag names the kind); the warming of the next reply's prompt, a llama.cpp prefill
rather than a LangChain call, is counted from the background worker's jobs."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from agent_runtime.background import BackgroundWorker
from agent_runtime.resources import ResourceProvider
from evals.model_calls import ModelCall, ModelCallLog
from evals.report import print_table, save_plot, write_json
from graphs import Context
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.embedding import Embedder
from nodes.reply_prompt import is_question
from providers.chat import make_chat_model

#: The background worker's label of the prompt warming job (``nodes.warm_prefix``).
PREFILL_JOB = "warm_reply_prefix"


class CountingWorker(BackgroundWorker):
    """The background worker, counting the jobs it is given by label, and the prefills
    that evaluated a prompt (``warmed``: one that found the prompt in the context already,
    or gave way to a reply before its first chunk, used no model time to speak of)."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.warmed = 0

    def submit(self, user_id: str, label: str, job: Callable[[], object],
               key: str = "") -> None:
        self.jobs[label] += 1

        def counted() -> object:
            outcome = job()
            if label == PREFILL_JOB and outcome == "warmed":
                with self._lock:
                    self.warmed += 1
            return outcome
        super().submit(user_id, label, counted, key)


@contextmanager
def _closing(worker: BackgroundWorker) -> Iterator[None]:
    try:
        yield
    finally:
        worker.close(timeout=60)


def _percentile(values: Sequence[float], q: float) -> float | None:
    """None when there is nothing to measure (JSON has no NaN): no consolidation on the
    default path, say."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def _timed_turn(assistant: Assistant, text: str, at: str, images: list[dict[str, str]],
                **overrides: Any) -> tuple[float, float | None, dict[str, Any]]:
    """Reply seconds, first-token seconds (None for a reply written without the model)."""
    first: list[float] = []
    start = time.perf_counter()
    out = assistant.say_streaming(text, lambda _token: first.append(time.perf_counter()),
                                  images=images, at=at, **overrides)
    seconds = time.perf_counter() - start
    return seconds, (first[0] - start) if first else None, dict(out)


def _turn_row(kind: str, seconds: float, first_token: float | None, background: float,
              calls: list[ModelCall], prefills: int) -> dict[str, Any]:
    fg = [c for c in calls if c.foreground]
    bg = [c for c in calls if not c.foreground]
    return {"kind": kind, "reply_s": round(seconds, 2),
            "first_token_s": round(first_token, 2) if first_token is not None else None,
            "background_s": round(background, 2),
            "foreground_calls": len(fg), "background_calls": len(bg), "prefills": prefills,
            "calls_by_kind": dict(Counter(c.step for c in calls)
                                  + Counter({PREFILL_JOB: prefills} if prefills else {})),
            "prompt_tokens": sum(c.prompt_tokens for c in calls),
            "completion_tokens": sum(c.completion_tokens for c in calls)}


def main(out: Path, location: Path, script: dict[str, Any], root: Path,
         turns: int | None = None, chat: BaseChatModel | None = None,
         embedder: Embedder | None = None, **overrides: Any) -> dict[str, Any]:
    """Replay ``script`` (the demo conversation; its photos are relative to ``root``) with
    the offline model (or ``chat``, and ``embedder``: the unit test's), with the agent's
    context changed by ``overrides``."""
    history = [t for session in script["sessions"] for t in session][:turns]
    log = ModelCallLog()
    chat = chat or make_chat_model("llamacpp", "", "")
    chat.callbacks = [log]
    worker = CountingWorker()
    context = Context(user_id="bench-agent", user_name=script["user_name"],
                      store_location=str(location), **overrides)
    with ResourceProvider(chat_model=chat, embedder=embedder, worker=worker) as provider, \
            _closing(worker):
        assistant = Assistant(context, agent=build_agent(provider=provider),
                              provider=provider)
        if assistant.resources.memory.has_user(context.user_id):  # an earlier run's
            assistant.forget(everything=True)
        # The process's first reply, models loaded meanwhile, as ``chat`` does it.
        started = time.perf_counter()
        assistant.warm_up()
        assistant.say("Hello!", at="2024-01-01 08:00")
        first_reply = time.perf_counter() - started
        assistant.wait()
        assistant.forget(everything=True)

        rows = []
        for turn in tqdm(history, desc="turns", unit="turn"):
            images = [{"path": str(root / i["path"]), "caption": i.get("caption", "")}
                      for i in turn.get("images", [])]
            prefills = worker.warmed
            start = time.perf_counter()
            seconds, first, _ = _timed_turn(assistant, turn["text"], turn["at"], images)
            assistant.wait()
            end = time.perf_counter()
            rows.append(_turn_row("question" if is_question(turn["text"]) else "statement",
                                  seconds, first, end - start - seconds,
                                  log.between(start, end), worker.warmed - prefills))
        start = time.perf_counter()
        assistant.finish_sessions()
        last_session = log.between(start, time.perf_counter())
        answers = []
        for question in tqdm(script["questions"], desc="questions", unit="question"):
            start = time.perf_counter()
            seconds, first, _ = _timed_turn(assistant, question["text"], question["at"], [],
                                            update_memory=False)
            assistant.wait()
            answers.append(_turn_row("question", seconds, first, 0.0,
                                     log.between(start, time.perf_counter()), 0))
    consolidations = [c.seconds for c in log.calls if c.step == "consolidate_session"]
    summary = {**_summary(rows, answers, consolidations, last_session),
               "first_reply_of_process_s": round(first_reply, 2)}
    print_table(["measure", "value"], list(summary.items()))
    write_json(out, {"context": overrides, "summary": summary, "turns": rows,
                     "questions": answers,
                     "consolidation_s": [round(s, 2) for s in consolidations]})
    save_plot(out.with_suffix(".png"), "One turn of the demo (offline model, 2 cores)",
              {"reply": [r["reply_s"] for r in rows],
               "first token": [r["first_token_s"] or 0.0 for r in rows],
               "background work": [r["background_s"] for r in rows]},
              list(range(1, len(rows) + 1)), "turn", "seconds")
    return summary


def _summary(rows: list[dict[str, Any]], answers: list[dict[str, Any]],
             consolidations: list[float], last_session: list[ModelCall]) -> dict[str, Any]:
    n = len(rows)
    kinds: Counter[str] = Counter()
    for row in rows:
        kinds.update(row["calls_by_kind"])
    kinds.update(c.step for c in last_session)
    background = sum(r["background_calls"] for r in rows) + sum(
        not c.foreground for c in last_session)
    foreground = sum(r["foreground_calls"] for r in rows)
    prefills = sum(r["prefills"] for r in rows)
    first = {kind: [r["first_token_s"] for r in rows + answers
                    if r["kind"] == kind and r["first_token_s"] is not None]
             for kind in ("question", "statement")}
    replies = [r["reply_s"] for r in rows]
    return {
        "turns": n,
        "calls_per_turn": round((foreground + background + prefills) / n, 2),
        "foreground_calls_per_turn": round(foreground / n, 2),
        "background_calls_per_turn": round(background / n, 2),
        "prefills_per_turn": round(prefills / n, 2),
        "background_calls_per_turn_with_prefills": round((background + prefills) / n, 2),
        **{f"calls_per_turn:{kind}": round(count / n, 2) for kind, count in sorted(kinds.items())},
        "prompt_tokens_per_turn": round(sum(r["prompt_tokens"] for r in rows) / n, 1),
        "completion_tokens_per_turn": round(sum(r["completion_tokens"] for r in rows) / n, 1),
        "first_token_p50_s": _percentile(first["question"] + first["statement"], 0.5),
        "first_token_p50_s_questions": _percentile(first["question"], 0.5),
        "first_token_p50_s_statements": _percentile(first["statement"], 0.5),
        "first_token_p95_s": _percentile(first["question"] + first["statement"], 0.95),
        "reply_p50_s": _percentile(replies, 0.5),
        "reply_p95_s": _percentile(replies, 0.95),
        "background_p50_s": _percentile([r["background_s"] for r in rows], 0.5),
        "background_s_per_turn": round(statistics.fmean(r["background_s"] for r in rows), 2),
        "consolidation_p50_s": _percentile(consolidations, 0.5),
        "consolidations": len(consolidations),
        "question_reply_p50_s": _percentile([a["reply_s"] for a in answers], 0.5),
    }
