"""Retrieval benchmark: recall of LoCoMo's gold evidence turns, no language model.

Every conversation's raw turns (with session dates and image captions) go into the
embedded store; each QA of categories 1-4 that has evidence is searched with every
method in the same run, and recall@k of the gold turn ids is averaged over questions.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from evals.locomo import Conversation, load_locomo
from evals.report import print_table, save_plot, write_json
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.embedding import Embedder
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel
from memory_graph.search import HybridSearch, SearchConfig, recipe
from providers.embeddings import default_embedder
from providers.reranker import default_reranker

KS = (1, 5, 10, 20)
METHODS = ("bm25", "dense", "hybrid", "hybrid_graph")
RETRIEVAL_CATEGORIES = (1, 2, 3, 4)
SAMPLE = Path(__file__).resolve().parent.parent / "personavlm" / "samples" / "locomo_sample.json"


@dataclass
class RetrievalResult:
    n: int
    recall: dict[str, dict[int, float]]
    latency_ms: dict[str, dict[str, float]]
    ingest_seconds: float
    turns: int

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "turns": self.turns,
            "ingest_seconds": round(self.ingest_seconds, 2),
            "methods": {m: {f"recall@{k}": round(v, 4) for k, v in r.items()}
                        for m, r in self.recall.items()},
            "latency_ms": self.latency_ms["hybrid"],
            "latency_ms_by_method": self.latency_ms,
        }


def fillers(conv: Conversation, conversations: list[Conversation], turns_per_user: int
            ) -> list[TurnInput]:
    """Distractor turns that bring ``conv``'s user to ``turns_per_user`` turns: the other
    conversations' turns, cycled, under ids of their own, in sessions of their own (their
    dates kept: LoCoMo's conversations span the same years). A search over a user's whole
    history then meets as many turns as a long-lived user has."""
    others = [t for c in conversations if c is not conv for t in c.turns]
    wanted = max(0, turns_per_user - len(conv.turns))
    return [replace(t, turn_id=f"filler-{i}", session_id=f"filler-{t.session_id}-{i // 20}")
            for i, t in zip(range(wanted), itertools.cycle(others))]


def ingest(memory: MemoryGraph, conversations: list[Conversation], turns_per_user: int = 0
           ) -> int:
    total = 0
    for conv in tqdm(conversations, desc="ingest", unit="conv"):
        memory.ensure_user(conv.sample_id)
        turns = [*fillers(conv, conversations, turns_per_user), *conv.turns]
        memory.add_turns(conv.sample_id, turns)
        total += len(turns)
    return total


def method_recipe(method: str) -> SearchConfig:
    """A recipe by name, or ``<recipe>@<n>``: that recipe reranking its best ``n``
    candidates (the recipes rerank 40)."""
    name, _, candidates = method.partition("@")
    overrides: dict[str, object] = {"labels": (NodeLabel.TURN,)}
    if candidates:
        overrides["rerank_candidates"] = int(candidates)
    return recipe(name, **overrides)


def run(data: Path, store_dir: Path, embedder: Embedder | None = None,
        methods: tuple[str, ...] = METHODS, turns_per_user: int = 0) -> RetrievalResult:
    conversations = load_locomo(data)
    store = NetworkxStore(store_dir)
    memory = MemoryGraph(store, embedder or default_embedder())
    started = time.perf_counter()
    turns = ingest(memory, conversations, turns_per_user)
    ingest_seconds = time.perf_counter() - started

    reranker = default_reranker()  # one for every method
    searches = {m: HybridSearch(memory, method_recipe(m), reranker=reranker)
                for m in methods}
    found: dict[str, list[dict[int, float]]] = {m: [] for m in methods}
    latencies: dict[str, list[float]] = {m: [] for m in methods}
    items = [(c.sample_id, q) for c in conversations for q in c.qa
             if q.category in RETRIEVAL_CATEGORIES and q.evidence]
    for user_id, qa in tqdm(items, desc="search", unit="q"):
        gold = set(qa.evidence)
        for method in methods:
            t0 = time.perf_counter()
            hits = searches[method].search(user_id, qa.question, k=max(KS))
            latencies[method].append((time.perf_counter() - t0) * 1000)
            ids = [h.node.id for h in hits]
            found[method].append({k: len(gold.intersection(ids[:k])) / len(gold) for k in KS})
    store.close()
    recall = {m: {k: float(np.mean([r[k] for r in found[m]])) if found[m] else 0.0 for k in KS}
              for m in methods}
    latency = {m: {"p50": round(float(np.percentile(v, 50)), 2),
                   "p95": round(float(np.percentile(v, 95)), 2)} if v else {}
               for m, v in latencies.items()}
    return RetrievalResult(n=len(items), recall=recall, latency_ms=latency,
                           ingest_seconds=ingest_seconds, turns=turns)


def main(data: Path | None, out: Path, store_dir: Path | None = None,
         rerank_candidates: tuple[int, ...] = (), turns_per_user: int = 0,
         methods: tuple[str, ...] = METHODS) -> RetrievalResult:
    """``methods``: the recipes to compare; ``rerank_candidates``: also the default recipe
    reranking that many candidates; ``turns_per_user``: each user's store filled to that
    many turns (``fillers``)."""
    data = data or SAMPLE
    methods = (*methods, *(f"hybrid@{n}" for n in rerank_candidates))
    with tempfile.TemporaryDirectory(prefix="pvlm-bench-") as tmp:
        result = run(data, store_dir or Path(tmp) / "store", methods=methods,
                     turns_per_user=turns_per_user)
    rows = [[m, *(f"{result.recall[m][k]:.3f}" for k in KS),
             *(f"{result.latency_ms[m].get(p, 0):.1f}" for p in ("p50", "p95"))]
            for m in result.recall]
    print(f"\nRetrieval on {data.name}: {result.n} questions, {result.turns} turns, "
          f"ingested in {result.ingest_seconds:.1f} s")
    print_table(["method", *(f"R@{k}" for k in KS), "p50 ms", "p95 ms"], rows)
    payload = {**result.as_json(), "data": str(data), "turns_per_user": turns_per_user,
               "recipes": {
        m: asdict(method_recipe(m)) | {"labels": ["Turn"]} for m in result.recall}}
    write_json(out, payload)
    save_plot(out.with_suffix(".png"), "Evidence recall@k on " + data.name,
              {m: [result.recall[m][k] for k in KS] for m in result.recall},
              xs=list(KS), xlabel="k", ylabel="recall of gold evidence turns")
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return result
