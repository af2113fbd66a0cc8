"""The names of the systems an evaluation compares, importable without loading any of them
(the command line builds its choices from it)."""

from __future__ import annotations

from typing import Any

#: Context overrides of each variant of our agent.
OURS_VARIANTS: dict[str, dict[str, Any]] = {
    "ours": {},
    "ours-graph": {"search_recipe": "hybrid_graph"},
    "ours-iterative": {"max_retrieval_rounds": 2},
    "ours-iterative-no-temporal": {"max_retrieval_rounds": 2, "temporal_filter": False},
    "ours-no-rerank": {"search_recipe": "hybrid_fast"},
    "ours-no-personality": {"use_personality": False},
    "ours-consolidation": {"use_consolidation": True},
    "ours-window-1": {"extraction_window": 1},
}
#: Honest references: the simplest retrieve-then-answer system, and gold evidence in its
#: prompt.
REFERENCES = ("simple-rag", "oracle")
#: The paper's baselines.
PAPER_BASELINES = ("rag-turns", "paper-memory")
BASELINES = ("no-memory", "full-context", *REFERENCES, *PAPER_BASELINES)
ALL_SYSTEMS = (*BASELINES, *OURS_VARIANTS)
#: The references of the assistant set (``evals.assistant_conversants``).
ASSISTANT_REFERENCES = ("full-context", "simple-rag", "no-memory")
ASSISTANT_SYSTEMS = (*OURS_VARIANTS, *ASSISTANT_REFERENCES)
