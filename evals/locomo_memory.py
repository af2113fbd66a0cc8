"""Phase 1 of the LoCoMo run: each conversation's memory, built once and reused by every
system that needs it.

Raw turns go in with their LoCoMo ids (``D<session>:<turn>``), so evidence can be scored.
Then every session is consolidated by the chat model in bulk mode
(``extraction_mode="session"``: one call per session gives its facts with the turns that
say them, its topics, routines and the profile) — one call per session instead of one
per turn: the 128 sessions of the dev set take about two hours on two CPU cores instead
of about nineteen. Personality is not inferred:
neither LoCoMo speaker is the assistant's user. Resumable: a session that already has a
summary is not consolidated again, and each session's cost is appended to a log. A session
the log records as failed is not tried again unless asked (``retry_failed``): with a
deterministic model a retry costs minutes and fails the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider, Resources
from agent_runtime.structured import StructuredOutputError
from evals.locomo import Conversation
from memory_graph.embedding import Embedder
from memory_graph.graph import MemoryGraph
from memory_graph.store import GraphStore
from memory_work.consolidate import consolidate_session


def locomo_context(conversation: Conversation, **overrides: Any) -> Context:
    """The agent context of one LoCoMo conversation: its first speaker plays the user."""
    return Context(user_id=conversation.sample_id, user_name=conversation.speakers[0],
                   extraction_mode="session", **overrides)


@dataclass
class IngestReport:
    turns: int
    sessions: int
    consolidated: int
    skipped: int
    failed: int
    seconds: float
    model_calls: int
    prompt_tokens: int
    completion_tokens: int

    def as_json(self) -> dict[str, Any]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in vars(self).items()}


def _stored(memory: MemoryGraph, conv: Conversation) -> bool:
    """Whether the conversation's turns are stored (by a run this one resumes). The user is
    made before the turns, in a transaction of its own: a run stopped between the two left
    the user without turns, which used to count as stored, so its questions were answered
    from an empty memory. The turns are one transaction: all there or none."""
    if not memory.has_user(conv.sample_id):
        return False
    held = len(memory.turns(conv.sample_id))
    if held not in (0, len(conv.turns)):
        raise RuntimeError(f"{conv.sample_id}: the store holds {held} of its "
                           f"{len(conv.turns)} turns; delete its memory folder and run again")
    return held > 0


def build_memories(conversations: Sequence[Conversation], store: GraphStore,
                   chat: BaseChatModel, embedder: Embedder, log: Path,
                   consolidate: bool = True, retry_failed: bool = False) -> IngestReport:
    """Store every conversation's turns and consolidate its sessions (see module doc)."""
    provider = ResourceProvider(chat_model=chat, embedder=embedder, store=store)
    memory = MemoryGraph(store, embedder)
    started = time.perf_counter()
    report = IngestReport(0, 0, 0, 0, 0, 0.0, 0, 0, 0)
    todo: list[tuple[Conversation, str]] = []
    log.parent.mkdir(parents=True, exist_ok=True)
    failed_before = set() if retry_failed else logged_failures(log)
    for conv in tqdm(conversations, desc="store turns", unit="conversation"):
        if not _stored(memory, conv):
            t0 = time.perf_counter()
            memory.ensure_user(conv.sample_id, conv.speakers[0])
            memory.add_turns(conv.sample_id, list(conv.turns))
            _append(log, {"conversation": conv.sample_id, "stored_turns": len(conv.turns),
                          "seconds": round(time.perf_counter() - t0, 2)})
        report.turns += len(conv.turns)
        report.sessions += len(conv.session_ids())
        if consolidate:
            todo += [(conv, s) for s in conv.session_ids()]
    for conv, session_id in tqdm(todo, desc="consolidate sessions", unit="session"):
        ctx = locomo_context(conv)
        res = provider.resolve(ctx)
        if _summarised(res, conv.sample_id, session_id):
            report.skipped += 1
            continue
        if (conv.sample_id, session_id) in failed_before:
            report.failed += 1
            continue
        meter = CostMeter()
        errors: list[str] = []
        t0 = time.perf_counter()
        try:
            outcome: dict[str, Any] = consolidate_session(res, ctx, session_id, meter, errors)
            report.consolidated += 1
        except StructuredOutputError as exc:
            outcome = {"status": "failed", "error": str(exc)}
            report.failed += 1
        cost = meter.as_dict()
        report.model_calls += meter.model_calls
        report.prompt_tokens += meter.prompt_tokens
        report.completion_tokens += meter.completion_tokens
        _append(log, {"conversation": conv.sample_id, "session": session_id,
                      "seconds": round(time.perf_counter() - t0, 2), "outcome": outcome,
                      "errors": errors, "cost": cost})
    report.seconds = time.perf_counter() - started
    return report


def _append(log: Path, record: dict[str, Any]) -> None:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def _logged(log: Path) -> list[dict[str, Any]]:
    """Every record of the ingestion log (none before the first invocation)."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text("utf-8").splitlines() if line.strip()]


def logged_seconds(log: Path) -> float:
    """Ingestion time over every invocation of a resumed run."""
    return round(sum(float(r.get("seconds", 0.0)) for r in _logged(log)), 1)


def logged_failures(log: Path) -> set[tuple[str, str]]:
    """The (conversation, session) pairs whose consolidation the log records as failed."""
    return {(r["conversation"], r["session"]) for r in _logged(log)
            if r.get("outcome", {}).get("status") == "failed"}


def _summarised(res: Resources, user_id: str, session_id: str) -> bool:
    session = res.memory.session(user_id, session_id)
    return session is not None and bool(session.summary)
