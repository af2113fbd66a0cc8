"""``personavlm eval locomo``: LoCoMo question answering, every system in one run.

Phase 1 stores each conversation's turns under its LoCoMo ids and, when a system answers
from derived memories (ours, paper-memory), consolidates every session with the chat model
(bulk mode: topics, facts, routines and profile in one call per session). Phase 2 asks each
question, system by system, and scores the official token F1 per category and the
recall of the gold evidence turns among what reached the prompt. On request, a model-free
pass scores the first retrieval round of the ranked systems on every question with
evidence, and a judge model grades every answer (evals/judge.py).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.harness import (
    EvalItem,
    ItemLog,
    aggregate,
    answer_items,
    mean,
    model_identity,
    write_outputs,
)
from evals.judge import judge_records
from evals.locomo import Conversation, QAItem, load_locomo
from evals.locomo_memory import build_memories, locomo_context, logged_seconds
from evals.metrics import evidence_recall, locomo_score
from evals.paired import compare_with_baselines
from evals.report import format_cell, format_table
from evals.system_names import ALL_SYSTEMS, OURS_VARIANTS
from evals.systems import Query, Reply, Workbench, make_systems
from graphs.agent import build_agent
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import ConfigurationError
from memory_graph.graph import MemoryGraph
from memory_graph.schema import NodeLabel
from memory_graph.search import HybridSearch, recipe
from memory_graph.timeparse import parse_timestamp
from providers.chat import make_chat_model
from providers.embeddings import default_embedder
from providers.gguf import file_sha256
from providers.reranker import default_reranker

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop",
              5: "adversarial"}
#: LoCoMo has no personality to infer (neither speaker is the assistant's user), so the
#: no-personality ablation would equal ``ours``.
DEFAULT_SYSTEMS = tuple(s for s in ALL_SYSTEMS if s != "ours-no-personality")
#: Systems that answer from derived memories: ours normally has every session consolidated
#: (``--raw-turns-only`` skips that, for a quick look at retrieval over raw turns).
NEEDS_DERIVED = ("paper-memory", *OURS_VARIANTS)
ANSWER_STYLE = "Answer with a short phrase, using exact words from our conversations " \
               "when you can."
NOT_MENTIONED = "Not mentioned in the conversation"
RECALL_KS = (5, 10)
#: What the paired comparison of ``ours`` reports, and against which systems (the
#: baselines the target names, and the ablations: what each part adds): F1, F1 over
#: categories 1-4 (answerable questions), recall@10.
PAIRED_METRICS = ("f1", "f1_answerable", "recall@10")
PAIRED_BASELINES = ("simple-rag", "rag-turns", "paper-memory",
                    *(name for name in OURS_VARIANTS if name != "ours"))


@dataclass(frozen=True)
class LocomoOptions:
    data: Path
    out: Path
    systems: tuple[str, ...] = DEFAULT_SYSTEMS
    conversations: tuple[str, ...] = ()
    limit: int | None = None
    raw_turns_only: bool = False
    provider: str = "llamacpp"
    model: str = ""
    base_url: str = ""
    window_tokens: int = 8192
    #: Only aggregate the answers already logged (an interrupted run's partial tables).
    report_only: bool = False
    #: Also run the model-free first-round recall pass over every question with evidence.
    first_round: bool = False
    #: An LLM judge grades every answer when a judge provider is given.
    judge_provider: str = ""
    judge_model: str = ""
    judge_base_url: str = ""
    #: Consolidate again the sessions an earlier invocation logged as failed.
    retry_failed: bool = False


def question_text(qa: QAItem) -> str:
    """The question as every system receives it (the official prompt's rules: dates for
    temporal questions, two options for adversarial ones, in a fixed order per question)."""
    if qa.category == 5:
        options = [NOT_MENTIONED, qa.answer]
        if sum(map(ord, qa.question)) % 2:
            options.reverse()
        return (f"{qa.question} Select the correct answer: (a) {options[0]} "
                f"(b) {options[1]}. {ANSWER_STYLE}")
    if qa.category == 2:
        return f"{qa.question} Use the dates of our conversations to answer with an " \
               f"approximate date. {ANSWER_STYLE}"
    return f"{qa.question} {ANSWER_STYLE}"


def select_items(conversation: Conversation, limit: int | None) -> list[tuple[int, QAItem]]:
    """All questions, or ``limit`` of them taken in turn from each category, so a small run
    still covers every category."""
    indexed = list(enumerate(conversation.qa))
    if limit is None:
        return indexed
    by_category: dict[int, list[tuple[int, QAItem]]] = {}
    for index, qa in indexed:
        by_category.setdefault(qa.category, []).append((index, qa))
    chosen = [pair for row in itertools.zip_longest(*by_category.values()) for pair in row
              if pair is not None][:limit]
    return sorted(chosen, key=lambda pair: pair[0])


def asked_at(conversation: Conversation) -> str:
    last = max(parse_timestamp(t.at) for t in conversation.turns)
    return (last + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")


def score(item: EvalItem, reply: Reply) -> dict[str, Any]:
    gold = item.meta["evidence"]
    return {"f1": round(locomo_score(reply.text, item.meta["answer"], item.meta["category"]),
                        4),
            **{f"recall@{k}": evidence_recall(reply.retrieved, gold, k) for k in RECALL_KS},
            "recall_prompt": evidence_recall(reply.retrieved, gold)}


def first_round_recall(memory: MemoryGraph, conversations: Sequence[Conversation]
                       ) -> dict[str, dict[str, Any]]:
    """Evidence recall of the first retrieval round, no model: every question with evidence
    in categories 1-4 (what ``bench retrieval`` measures, here per system)."""
    searches = {
        "rag-turns": HybridSearch(memory, recipe("dense", labels=(NodeLabel.TURN,))),
        "ours (round 1)": HybridSearch(memory, recipe("hybrid"),
                                       load_reranker=default_reranker),
        "ours-graph (round 1)": HybridSearch(memory, recipe("hybrid_graph"),
                                             load_reranker=default_reranker),
    }
    found: dict[str, list[dict[int, float]]] = {name: [] for name in searches}
    items = [(c, qa) for c in conversations for qa in c.qa if qa.category != 5 and qa.evidence]
    for conv, qa in tqdm(items, desc="first-round recall", unit="q"):
        for name, search in searches.items():
            hits = search.search(conv.sample_id, qa.question, max(RECALL_KS))
            turns = list(dict.fromkeys(t for h in hits for t in h.provenance))
            found[name].append({k: evidence_recall(turns, qa.evidence, k) or 0.0
                                for k in RECALL_KS})
    return {name: {"n": len(rows), **{f"recall@{k}": mean(r[k] for r in rows)
                                      for k in RECALL_KS}}
            for name, rows in found.items()}


def run(options: LocomoOptions) -> dict[str, Any]:
    conversations = load_locomo(options.data)
    if options.conversations:
        unknown = set(options.conversations) - {c.sample_id for c in conversations}
        if unknown:
            raise ConfigurationError(
                f"no conversation {', '.join(sorted(unknown))} in {options.data}")
        conversations = [c for c in conversations if c.sample_id in options.conversations]
    chat = make_chat_model(options.provider, options.model, options.base_url)
    embedder = default_embedder()
    config = {"benchmark": "locomo", "data": str(options.data),
              "data_sha256": file_sha256(options.data), "systems": list(options.systems),
              "conversations": [c.sample_id for c in conversations], "limit": options.limit,
              "provider": options.provider, "model": model_identity(chat),
              "embeddings": "all-MiniLM-L6-v2", "window_tokens": options.window_tokens}
    log = ItemLog(options.out.with_suffix(".items.jsonl"), config)
    # A report only aggregates the log: no judge model to load (or file to hash) for it.
    judge = make_chat_model(options.judge_provider, options.judge_model, options.judge_base_url
                            ) if options.judge_provider and not options.report_only else None
    judge_name = json.dumps(model_identity(judge), sort_keys=True) if judge else None
    config = {**config, "judge": judge_name}
    items = [EvalItem(item_id=f"{c.sample_id}#{index}", user_key=c.sample_id,
                      text=question_text(qa), at=asked_at(c),
                      meta={"category": qa.category, "question": qa.question,
                            "answer": qa.answer, "evidence": list(qa.evidence)})
             for c in conversations for index, qa in select_items(c, options.limit)]
    selected = {i.item_id for i in items}
    if options.report_only:
        return report(options, config, log, selected, {}, {}, None)
    store = NetworkxStore(options.out.with_suffix(".memory"))
    try:
        started = time.perf_counter()
        derived = not options.raw_turns_only and any(s in NEEDS_DERIVED
                                                     for s in options.systems)
        ingest = build_memories(conversations, store, chat, embedder,
                                options.out.with_suffix(".ingest.jsonl"), consolidate=derived,
                                retry_failed=options.retry_failed)
        ingest_seconds = time.perf_counter() - started
        memory = MemoryGraph(store, embedder)
        bench = Workbench(chat=chat, memory=memory, agent=build_agent(
            chat_model=chat, embedder=embedder, store=store), window_tokens=options.window_tokens)
        contexts = {c.sample_id: locomo_context(c, extract_memories=False)
                    for c in conversations}
        spent = answer_items(make_systems(bench, options.systems), items,
                             lambda i: Query(i.item_id, contexts[i.user_key], i.text, i.at,
                                             evidence=tuple(i.meta["evidence"])),
                             score, log)
        recall_all = first_round_recall(memory, conversations) if options.first_round \
            else None
        if judge is not None and judge_name is not None:
            judge_records(judge, judge_name, _selected(log, options.systems, selected), log)
    finally:
        store.close()
    return report(options, config, log, selected, {**ingest.as_json(),
                                         "wall_seconds_this_invocation": round(ingest_seconds, 1)},
                  spent, recall_all)


def report(options: LocomoOptions, config: dict[str, Any], log: ItemLog, selected: set[str],
           ingest: dict[str, Any], spent: dict[str, float],
           recall_all: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Aggregate the logged answers of the selected systems; write JSON, Markdown, PNG."""
    records = _selected(log, options.systems, selected)
    for record in records:
        record["category_name"] = CATEGORIES[record["category"]]
        record["f1_answerable"] = None if record["category"] == 5 else record["f1"]
    systems = aggregate(records, "f1", "category_name",
                        extra=(*(f"recall@{k}" for k in RECALL_KS), "recall_prompt",
                               "credited_turns", "judge", "f1_answerable", "later_rounds",
                               "time_window", "graph_memories"))
    payload = {"config": config, "ingest": {
                   **ingest, "seconds_all_invocations": logged_seconds(
                       options.out.with_suffix(".ingest.jsonl"))},
               "answer_seconds_this_invocation": spent, "systems": systems,
               "first_round_recall_all_questions": recall_all,
               "paired": compare_with_baselines(records, PAIRED_METRICS, "ours",
                                                PAIRED_BASELINES),
               "oracle_gap_closed": oracle_gap_closed(records),
               "items": sorted(records, key=lambda r: (r["system"], r["item_id"]))}
    write_outputs(options.out, payload, render(payload), "LoCoMo F1 per category",
                  {s: v["f1_by_category_name"] for s, v in systems.items()}, "F1", "f1")
    return payload


def oracle_gap_closed(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """How much of the simple-rag -> oracle F1 gap ours closes on categories 1-4, over
    the questions all three answered (None without them, or without a gap)."""
    by_item: dict[str, dict[str, float]] = {}
    for record in records:
        if record["category"] != 5 and record["system"] in ("ours", "simple-rag", "oracle"):
            by_item.setdefault(record["item_id"], {})[record["system"]] = record["f1"]
    common = [scores for scores in by_item.values() if len(scores) == 3]
    if not common:
        return None
    means = {name: sum(s[name] for s in common) / len(common)
             for name in ("ours", "simple-rag", "oracle")}
    gap = means["oracle"] - means["simple-rag"]
    if gap <= 0:
        return None
    return {"n": len(common), **{k: round(v, 4) for k, v in means.items()},
            "share": round((means["ours"] - means["simple-rag"]) / gap, 3)}


def _selected(log: ItemLog, systems: Sequence[str], items: set[str]) -> list[dict[str, Any]]:
    return [r for r in log.records.values() if r["system"] in systems and r["item_id"] in items]


def render(payload: dict[str, Any]) -> str:
    systems: dict[str, dict[str, Any]] = payload["systems"]
    names = list(CATEGORIES.values())
    judged = any(v["judge"] is not None for v in systems.values())
    rows = [[name, v["n"], format_cell(v["f1"]), format_cell(v["f1_answerable"]),
             *([format_cell(v["judge"])] if judged else []),
             *(format_cell(v["f1_by_category_name"].get(c)) for c in names),
             *(format_cell(v[key]) for key in ("recall@5", "recall@10", "recall_prompt")),
             format_cell(v["credited_turns"], 1), format_cell(v["prompt_tokens"], 0),
             format_cell(v["model_calls"], 2), format_cell(v["later_rounds"], 2),
             format_cell(v["time_window"], 2), format_cell(v["graph_memories"], 2),
             format_cell(v["seconds"], 1)]
            for name, v in systems.items()]
    headers = ["system", "n", "F1", "F1 1-4", *(["judge"] if judged else []), *names, "R@5",
               "R@10", "R(prompt)", "turns", "prompt tok", "calls", "later rounds",
               "windowed", "via graph", "s/answer"]
    table = format_table(headers, rows)
    text = f"## LoCoMo ({', '.join(payload['config']['conversations'])})\n\n{table}\n"
    recall = payload["first_round_recall_all_questions"]
    if recall:
        recall_rows = [[name, v["n"], *(format_cell(v[f"recall@{k}"]) for k in RECALL_KS)]
                       for name, v in recall.items()]
        text += (f"\nEvidence recall of the first retrieval round (no model), every question "
                 f"with evidence in categories 1-4:\n\n"
                 f"{format_table(['search', 'n', 'R@5', 'R@10'], recall_rows)}\n")
    if payload["paired"]:
        paired_rows = [[f"ours - {p['baseline']}", p["metric"], p["n"],
                        f"{p['difference']:+.3f}", f"[{p['ci_low']:+.3f}, {p['ci_high']:+.3f}]",
                        f"{p['better']}/{p['worse']}/{p['same']}"] for p in payload["paired"]]
        headers = ["pair", "metric", "n", "difference", "95% CI", "better/worse/same"]
        text += ("\nPaired differences on the same questions (95% bootstrap interval):\n\n"
                 f"{format_table(headers, paired_rows)}\n")
    gap = payload.get("oracle_gap_closed")
    if gap:
        text += (f"\nCategories 1-4, the {gap['n']} questions all three answered: simple-rag "
                 f"{gap['simple-rag']:.3f}, oracle {gap['oracle']:.3f}, ours {gap['ours']:.3f}; "
                 f"ours closes {gap['share']:.0%} of the simple-rag -> oracle gap.\n")
    ingest = payload["ingest"]
    if "turns" in ingest:
        text += (f"\nIngestion: {ingest['turns']} turns, {ingest['sessions']} sessions, "
                 f"{ingest['consolidated']} consolidated by the model.\n")
    return text + (f"\nStoring (and consolidating) took {ingest['seconds_all_invocations']} s "
                   f"over all invocations; answering time per system is its total_seconds "
                   f"in the JSON.\n")
