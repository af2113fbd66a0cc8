"""Hybrid search over any ``GraphStore``: keyword + vector + graph neighbourhood + time.

One implementation for every backend. Each signal ranks candidates on its own; the ranks
are fused with weighted reciprocal-rank fusion; the fused top candidates can then be
re-scored by a cross-encoder. Named recipes (``RECIPES``) are the configurations the
benchmarks compare; results carry their date and provenance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from memory_graph.errors import ConfigurationError
from memory_graph.graph import MemoryGraph
from memory_graph.schema import (
    SEARCHABLE_LABELS,
    EdgeType,
    Node,
    NodeLabel,
    Turn,
)
from memory_graph.store import Hit, TimeWindow

#: Edges followed from matched memories to their graph neighbourhood.
NEIGHBOURHOOD_EDGES = (EdgeType.NEXT, EdgeType.INVOLVES, EdgeType.RELATES, EdgeType.DEPICTS,
                       EdgeType.FROM_TURN, EdgeType.HAS_IMAGE)


class Reranker(Protocol):
    """A cross-encoder: one relevance logit per passage (``providers.reranker``)."""

    def score(self, query: str, passages: list[str]) -> list[float]: ...


@dataclass(frozen=True)
class SearchConfig:
    """Which signals to use and how to weigh them. Immutable: derive with ``replace``."""

    labels: tuple[NodeLabel, ...] = SEARCHABLE_LABELS
    keyword: bool = True
    vector: bool = True
    #: Graph neighbours of the best hits as a third signal (``hybrid_graph``).
    neighbourhood: bool = True
    candidates: int = 50
    rrf_k: float = 5.0
    keyword_weight: float = 1.0
    vector_weight: float = 1.0
    neighbourhood_weight: float = 0.3
    #: How many fused hits seed the neighbourhood expansion.
    neighbourhood_seeds: int = 5
    rerank: bool = True
    rerank_candidates: int = 40


#: The most candidates a signal is asked for when ``keep`` refuses those it returned.
MAX_CANDIDATES = 3200

RecipeName = Literal["bm25", "dense", "hybrid", "hybrid_fast", "hybrid_graph"]
#: ``hybrid`` leaves the graph neighbourhood out: measured on both benchmarks it changed
#: no answer for the better beyond chance (docs/results.md, ablations); ``hybrid_graph``
#: adds it.
RECIPES: dict[RecipeName, SearchConfig] = {
    "bm25": SearchConfig(vector=False, neighbourhood=False, rerank=False),
    "dense": SearchConfig(keyword=False, neighbourhood=False, rerank=False),
    "hybrid": SearchConfig(neighbourhood=False),
    "hybrid_fast": SearchConfig(neighbourhood=False, rerank=False),
    "hybrid_graph": SearchConfig(),
}


@dataclass
class MemoryHit:
    """A retrieved memory with the evidence of why and where it came from."""

    node: Node
    #: What ranked it: the cross-encoder's logit when reranked, else the fused rank score.
    score: float
    date: datetime | None
    session_id: str | None
    provenance: list[str]
    signals: dict[str, int] = field(default_factory=dict)
    #: The score on 0-1, in the order of the hits: the logit's sigmoid when reranked, else
    #: the fused score over the best a memory first in every signal could get.
    relevance: float = 0.0

    @property
    def label(self) -> NodeLabel:
        return self.node.label


class HybridSearch:
    """Search of one ``MemoryGraph``. A recipe that reranks uses ``reranker``, else the one
    ``load_reranker`` returns on first use (loading a cross-encoder takes a while, and
    recipes without reranking never need it); with neither, the rerank step is skipped."""

    def __init__(self, memory: MemoryGraph, config: SearchConfig | None = None,
                 reranker: Reranker | None = None,
                 load_reranker: Callable[[], Reranker | None] | None = None) -> None:
        self.memory = memory
        self.config = config or RECIPES["hybrid"]
        self._reranker = reranker
        self._load_reranker = load_reranker

    def reranker(self) -> Reranker | None:
        if self._reranker is None and self.config.rerank and self._load_reranker is not None:
            self._reranker = self._load_reranker()
        return self._reranker

    def with_config(self, config: SearchConfig) -> HybridSearch:
        return HybridSearch(self.memory, config, self._reranker, self._load_reranker)

    def search(self, user_id: str, query: str, k: int = 10, *,
               window: TimeWindow | None = None,
               exclude: Sequence[str] = (),
               query_vector: Sequence[float] | None = None,
               keep: Callable[[Node], bool] | None = None) -> list[MemoryHit]:
        """The ``k`` best memories of one user for ``query`` within ``window``.

        ``exclude`` ids are never returned (multi-round retrieval passes what it has);
        nodes ``keep`` refuses are dropped before the reranker and the cut to ``k``, so
        they take no place of one that is kept: when they fill the candidates of a signal
        and fewer than ``k`` remain, the stores are asked again for more candidates.
        """
        vector = None
        if self.config.vector:
            vector = query_vector if query_vector is not None else \
                self.memory.embedder.embed_query(query)
        candidates = self.config.candidates
        while True:
            ranked, full = self._candidates(user_id, query, vector, candidates, window)
            found = {h.node.id: h.node for hits in ranked.values() for h in hits}
            kept = sum(1 for node in found.values() if keep is None or keep(node))
            if kept >= k or kept == len(found) or not full or candidates >= MAX_CANDIDATES:
                break
            candidates *= 4
        return self._ranked(user_id, query, ranked, window, exclude, keep, k)

    def _candidates(self, user_id: str, query: str, vector: Sequence[float] | None,
                    candidates: int, window: TimeWindow | None
                    ) -> tuple[dict[str, list[Hit]], bool]:
        """Each signal's candidates, best first, and whether any store query returned as
        many as it was asked for (so that more may exist)."""
        store = self.memory.store
        ranked: dict[str, list[Hit]] = {}
        full = False
        for label in self.config.labels:
            if self.config.keyword:
                hits = store.keyword_search(user_id, label, query, candidates, window)
                ranked.setdefault("keyword", []).extend(hits)
                full = full or len(hits) >= candidates
            if vector is not None:
                hits = store.vector_search(user_id, label, vector, candidates, window)
                ranked.setdefault("vector", []).extend(hits)
                full = full or len(hits) >= candidates
        for name in ranked:
            ranked[name].sort(key=lambda h: -h.score)
        return ranked, full

    def _ranked(self, user_id: str, query: str, ranked: dict[str, list[Hit]],
                window: TimeWindow | None, exclude: Sequence[str],
                keep: Callable[[Node], bool] | None, k: int) -> list[MemoryHit]:
        cfg = self.config

        weights = {"keyword": cfg.keyword_weight, "vector": cfg.vector_weight,
                   "neighbourhood": cfg.neighbourhood_weight}
        nodes: dict[str, Node] = {}
        signals: dict[str, dict[str, int]] = {}
        for name, hits in ranked.items():
            for rank, hit in enumerate(hits):
                nodes.setdefault(hit.node.id, hit.node)
                signals.setdefault(hit.node.id, {}).setdefault(name, rank)
        fused = _fuse(signals, weights, cfg.rrf_k)

        if cfg.neighbourhood and fused:
            seeds = [nodes[i] for i in fused[: cfg.neighbourhood_seeds]]
            for rank, node in enumerate(self._neighbourhood(user_id, seeds, window)):
                nodes.setdefault(node.id, node)
                signals.setdefault(node.id, {}).setdefault("neighbourhood", rank)
            fused = _fuse(signals, weights, cfg.rrf_k)

        excluded = set(exclude)
        fused = [i for i in fused if i not in excluded and nodes[i].label in cfg.labels
                 and (keep is None or keep(nodes[i]))]
        scores = {i: _rrf_score(signals[i], weights, cfg.rrf_k) for i in fused}
        reranker = self.reranker() if cfg.rerank else None
        if reranker is not None and fused:
            head = fused[: cfg.rerank_candidates]
            logits = reranker.score(query, [nodes[i].search_text() for i in head])
            order = sorted(range(len(head)), key=lambda j: -logits[j])
            for j in order:
                scores[head[j]] = logits[j]
                signals[head[j]]["rerank"] = order.index(j)
            fused = [head[j] for j in order] + fused[cfg.rerank_candidates:]
        relevance = _relevance(fused[:k], scores, signals, weights, cfg.rrf_k)
        return [self._hit(nodes[i], scores[i], signals[i], relevance[i]) for i in fused[:k]]

    def _neighbourhood(self, user_id: str, seeds: Sequence[Node],
                       window: TimeWindow | None) -> list[Node]:
        """Graph neighbours of the seeds, best seed first: adjacent turns, linked memories."""
        rank_of = {seed.id: rank for rank, seed in enumerate(seeds)}
        best: dict[str, int] = {}
        for edge in self.memory.store.edges(user_id, list(rank_of), NEIGHBOURHOOD_EDGES):
            if not edge.is_current():
                continue
            seed_rank = min(rank_of.get(edge.source, len(seeds)), rank_of.get(edge.target,
                                                                               len(seeds)))
            for node_id in (edge.source, edge.target):
                if node_id not in rank_of:
                    best[node_id] = min(best.get(node_id, seed_rank), seed_rank)
        ordered = sorted(best, key=lambda i: best[i])
        nodes = self.memory.store.get_nodes(user_id, ordered, embeddings=False)
        return [n for n in nodes if n.searchable
                and (window is None or window.contains(n.event_time()))]

    def _hit(self, node: Node, score: float, signals: dict[str, int],
             relevance: float) -> MemoryHit:
        session_id = node.session_id if isinstance(node, Turn) else None
        provenance = [node.id] if isinstance(node, Turn) else []
        if not provenance:
            provenance = self.memory.source_turns(node.user_id, node.id)
        return MemoryHit(node=node, score=score, date=node.event_time(),
                         session_id=session_id, provenance=provenance, signals=dict(signals),
                         relevance=relevance)


def _relevance(ordered: list[str], scores: dict[str, float], signals: dict[str, dict[str, int]],
               weights: dict[str, float], rrf_k: float) -> dict[str, float]:
    """Each hit's score on 0-1, never above the hit before it (``MemoryHit.relevance``):
    reranked hits come first, and a hit after them was judged less relevant than they."""
    used = {name for ranks in signals.values() for name in ranks if name != "rerank"}
    # The best fused score there can be: first in every signal used.
    best = _rrf_score(dict.fromkeys(used, 0), weights, rrf_k) or 1.0
    found: dict[str, float] = {}
    ceiling = 1.0
    for node_id in ordered:
        if "rerank" in signals[node_id]:
            value = 1.0 / (1.0 + math.exp(-max(-60.0, scores[node_id])))
        else:
            value = scores[node_id] / best
        ceiling = min(ceiling, max(0.0, value))
        found[node_id] = round(ceiling, 4)
    return found


def _rrf_score(ranks: dict[str, int], weights: dict[str, float], rrf_k: float) -> float:
    return sum(weights.get(name, 0.0) / (rrf_k + 1 + rank) for name, rank in ranks.items())


def _fuse(signals: dict[str, dict[str, int]], weights: dict[str, float],
          rrf_k: float) -> list[str]:
    return sorted(signals, key=lambda i: -_rrf_score(signals[i], weights, rrf_k))


def recipe(name: str, **overrides: object) -> SearchConfig:
    """A named recipe, optionally with some fields replaced."""
    if name not in RECIPES:
        raise ConfigurationError(f"unknown search recipe {name!r}; choose one of "
                                 f"{', '.join(RECIPES)}")
    return replace(RECIPES[name], **overrides)  # type: ignore[arg-type]
