"""``personavlm eval persona-mme``: the Persona-MME protocol, every system in one run.

Each user's ``user_data.json`` is replayed through the agent with the given assistant
replies (images included; memories extracted per turn, or per session with
``--extraction session``), then every question is asked with its options and memory
updates off. A reply is correct when the letter before its first ")" is the answer's.
A question's alignment pair becomes two yes/no items: the chosen reply should get
"(a) Yes, it aligns", the rejected one "(b) No, it misaligns". Accuracy is reported per
task, per aspect, and overall with and without the alignment items.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agent_runtime.context import Context, ExtractionMode
from agent_runtime.resources import ResourceProvider
from evals.harness import (
    EvalItem,
    ItemLog,
    aggregate,
    answer_items,
    mean,
    model_identity,
    write_outputs,
)
from evals.history import load_history
from evals.report import format_cell, format_table
from evals.system_names import ALL_SYSTEMS
from evals.systems import Query, Reply, Workbench, make_systems
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import InvalidInputError
from memory_graph.graph import MemoryGraph
from providers.chat import make_chat_model
from providers.embeddings import default_embedder
from providers.gguf import file_sha256

ALIGNMENT = "Personality Alignment"
ALIGN_OPTIONS = "(a) Yes, it aligns (b) No, it misaligns"
ANSWER_LETTER = 'Answer with the letter of one option, like "(a)".'


@dataclass(frozen=True)
class PersonaMMEOptions:
    questions: Path
    root: Path
    out: Path
    systems: tuple[str, ...] = ALL_SYSTEMS
    extraction_mode: ExtractionMode = "turn"
    provider: str = "llamacpp"
    model: str = ""
    base_url: str = ""
    window_tokens: int = 8192


def load_questions(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read questions {path}: {exc}") from exc
    required = {"data_path", "type", "question_type", "time", "query", "choices", "answer"}
    for number, record in enumerate(records):
        missing = required - set(record)
        if missing:
            raise InvalidInputError(f"question {number} lacks {', '.join(sorted(missing))}")
    return list(records)


def user_key(data_path: str) -> str:
    """A valid user id from a ``data_path`` (``./data/.../samples/50/0/user_data.json`` ->
    ``pmme-50-0``)."""
    parts = [p for p in Path(data_path).parent.parts if p not in (".", "..")]
    tail = "-".join(parts[-2:]) if len(parts) >= 2 else "-".join(parts) or "user"
    return "pmme-" + re.sub(r"[^A-Za-z0-9_.@:-]", "_", tail)


def history_path(root: Path, data_path: str) -> Path:
    return root / Path(data_path.removeprefix("./"))


def build_items(records: list[dict[str, Any]]) -> list[EvalItem]:
    items = []
    for number, record in enumerate(records):
        key = user_key(record["data_path"])
        options = " ".join(f"{letter} {text}" for letter, text in record["choices"].items())
        base = {"task": record["question_type"], "aspect": record["type"],
                "answer": record["answer"]}
        items.append(EvalItem(f"q{number}", key, f"{record['query']}\nOptions: {options}\n"
                              f"{ANSWER_LETTER}", record["time"], base))
        for side, expected in (("chosen", "(a)"), ("rejected", "(b)")):
            reply = (record.get("alignment") or {}).get(side)
            if not reply:
                continue
            text = (f'{record["query"]}\nA candidate reply to this message: "{reply}"\n'
                    f"Does this reply align with my personality and preferences? "
                    f"Options: {ALIGN_OPTIONS}\n{ANSWER_LETTER}")
            items.append(EvalItem(f"q{number}-{side}", key, text, record["time"],
                                  {"task": f"{ALIGNMENT} ({side})", "aspect": ALIGNMENT,
                                   "answer": expected}))
    return items


def score(item: EvalItem, reply: Reply) -> dict[str, Any]:
    from evals.metrics import choice_letter

    expected = choice_letter(item.meta["answer"])
    return {"correct": 1.0 if choice_letter(reply.text) == expected else 0.0}


def replay_users(records: list[dict[str, Any]], root: Path, assistant_for: Any,
                 done_file: Path) -> dict[str, dict[str, Any]]:
    """Replay each user's history once (resumable: a user whose replay did not finish is
    forgotten and replayed again). Returns per-user replay figures."""
    done: dict[str, dict[str, Any]] = json.loads(done_file.read_text("utf-8")) \
        if done_file.exists() else {}
    for data_path in dict.fromkeys(r["data_path"] for r in records):
        key = user_key(data_path)
        if key in done:
            continue
        history = load_history(history_path(root, data_path))
        assistant: Assistant = assistant_for(key, history.user_name)
        if assistant.resources.memory.has_user(key):
            assistant.forget(everything=True)
        started = time.perf_counter()
        errors = 0
        for exchange in tqdm(history.exchanges, desc=f"replay {key}", unit="turn"):
            out = assistant.replay(exchange.user, exchange.reply, exchange.at,
                                   images=list(exchange.images))
            errors += len(out.get("errors", []))
        closing = assistant.finish_sessions()
        errors += len(closing.get("errors", []))
        done[key] = {"turns": len(history.exchanges), "errors": errors,
                     "seconds": round(time.perf_counter() - started, 1)}
        done_file.write_text(json.dumps(done, indent=1), "utf-8")
    return done


def run(options: PersonaMMEOptions) -> dict[str, Any]:
    records = load_questions(options.questions)
    for data_path in dict.fromkeys(r["data_path"] for r in records):
        if not history_path(options.root, data_path).is_file():
            raise InvalidInputError(f"{history_path(options.root, data_path)} does not exist "
                                    "(is --root the folder data_path is relative to?)")
    chat = make_chat_model(options.provider, options.model, options.base_url)
    embedder = default_embedder()
    config = {"benchmark": "persona-mme", "questions": str(options.questions),
              "questions_sha256": file_sha256(options.questions),
              "histories_sha256": {p: file_sha256(history_path(options.root, p)) for p in
                                   dict.fromkeys(r["data_path"] for r in records)},
              "systems": list(options.systems), "extraction_mode": options.extraction_mode,
              "provider": options.provider, "model": model_identity(chat),
              "embeddings": "all-MiniLM-L6-v2", "window_tokens": options.window_tokens}
    log = ItemLog(options.out.with_suffix(".items.jsonl"), config)
    store_dir = options.out.with_suffix(".memory")
    store = NetworkxStore(store_dir)
    try:
        provider = ResourceProvider(chat_model=chat, embedder=embedder, store=store,
                                    media_dir=store_dir / "media")
        agent = build_agent(provider=provider)

        def context(key: str, name: str = "") -> Context:
            return Context(user_id=key, user_name=name, background_extraction=False,
                           extraction_mode=options.extraction_mode)

        names: dict[str, str] = {}

        def assistant_for(key: str, name: str) -> Assistant:
            names[key] = name
            return Assistant(context(key, name), agent, provider)

        replay = replay_users(records, options.root, assistant_for,
                              options.out.with_suffix(".replayed.json"))
        for data_path in dict.fromkeys(r["data_path"] for r in records):
            key = user_key(data_path)
            names.setdefault(key, load_history(history_path(options.root, data_path))
                             .user_name)
        bench = Workbench(chat=chat, memory=MemoryGraph(store, embedder), agent=agent,
                          window_tokens=options.window_tokens, max_answer_tokens=48)
        items = build_items(records)
        spent = answer_items(make_systems(bench, options.systems), items,
                             lambda i: Query(i.item_id, context(i.user_key, names[i.user_key]),
                                             i.text, i.at), score, log)
    finally:
        store.close()
    rows = [r for r in log.records.values() if r["system"] in options.systems]
    without = [r for r in rows if r["aspect"] != ALIGNMENT]
    by_task = aggregate(rows, "correct", "task")
    by_aspect = aggregate(rows, "correct", "aspect")
    overall_without = {s: v["correct"] for s, v in aggregate(without, "correct", "task").items()}
    systems = {s: {"n": v["n"], "accuracy": v["correct"],
                   "accuracy_without_alignment": overall_without.get(s),
                   "by_aspect": by_aspect[s]["correct_by_aspect"],
                   "by_task": v["correct_by_task"], "prompt_tokens": v["prompt_tokens"],
                   "model_calls": v["model_calls"], "seconds": v["seconds"],
                   "total_seconds": v["total_seconds"]}
               for s, v in by_task.items()}
    payload = {"config": config, "replay": replay, "answer_seconds_this_invocation": spent,
               "systems": systems,
               "items": sorted(rows, key=lambda r: (r["system"], r["item_id"]))}
    write_outputs(options.out, payload, render(payload), "Persona-MME accuracy per aspect",
                  {s: v["by_aspect"] for s, v in systems.items()}, "accuracy", "accuracy")
    return payload


def render(payload: dict[str, Any]) -> str:
    systems: dict[str, dict[str, Any]] = payload["systems"]
    aspects = sorted({a for v in systems.values() for a in v["by_aspect"]})
    rows = [[name, v["n"], format_cell(v["accuracy_without_alignment"]),
             format_cell(v["accuracy"]), *(format_cell(v["by_aspect"].get(a)) for a in aspects),
             format_cell(v["prompt_tokens"], 0), format_cell(v["model_calls"], 2),
             format_cell(v["seconds"], 1)]
            for name, v in systems.items()]
    table = format_table(["system", "items", "acc (no align)", "acc (all)", *aspects,
                          "prompt tok", "calls", "s/answer"], rows)
    tasks = sorted({t for v in systems.values() for t in v["by_task"]})
    task_rows = [[t, *(format_cell(v["by_task"].get(t)) for v in systems.values())] for t in tasks]
    replay = payload["replay"]
    replay_note = ", ".join(f"{k}: {v['turns']} turns in {v['seconds']} s" for k, v in
                            replay.items())
    return (f"## Persona-MME ({payload['config']['questions']})\n\n{table}\n\n"
            f"Accuracy per task:\n\n{format_table(['task', *systems], task_rows)}\n\n"
            f"Replay ({payload['config']['extraction_mode']} extraction): {replay_note}. "
            f"Mean accuracy over systems: "
            f"{format_cell(mean(v['accuracy'] for v in systems.values()))}.\n")
