"""retrieve (iterative): one round of hybrid search with the user's message, then the model
gives search words (and a time window) for what the message asks of the past (a message
that asks no question is not sent to the model for that). A new round
runs when they differ from every search so far and the memories shown do not already hold
them (every search word in one memory), or when they come with a new time window (taken
only when the message names a time). The
window is applied inside the store query; no memory is returned twice in one turn; at
most ``max_retrieval_rounds``."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Literal

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from agent_runtime.structured import StructuredOutputError, call_structured
from memory_graph.errors import InvalidInputError
from memory_graph.relative_dates import names_a_time
from memory_graph.schema import Entity, Node, NodeLabel, Turn
from memory_graph.search import MemoryHit
from memory_graph.store import TimeWindow
from memory_graph.text import tokenize
from memory_graph.timeparse import parse_timestamp
from nodes.node_run import NodeRun
from nodes.prompts import DECIDE_SHAPE, DECIDE_SUFFIX
from nodes.reply_prompt import (
    is_question,
    memory_record,
    preference_notes,
    render_hit,
    reply_messages,
)
from nodes.retrieval_decision import RetrievalDecision
from nodes.state import RetrievalQuery, RetrievedMemory, State, add_memories

#: Memories a round after the first adds at most: the prompt stays within its budget.
LATER_ROUND_K = 3
#: What session consolidation writes (``use_consolidation`` leaves them out).
CONSOLIDATED_LABELS = (NodeLabel.EVENT, NodeLabel.ROUTINE)


def retrieve(state: State, runtime: Runtime[Context], *, provider: ResourceProvider) -> State:
    run = NodeRun.start(provider, runtime)
    retrieval = state["retrieval"]
    round_number = retrieval["round"] + 1
    turn = state["turn"]
    queries = list(retrieval["queries"])
    if not queries:
        queries = [{"keywords": turn["text"] or " ".join(turn["captions"]),
                    "start": None, "end": None}]
    query = queries[-1]
    found = search_round(state, run, query, round_number)
    before = state.get("memories", [])
    memories = add_memories(before, found)
    decision: Literal["retrieve", "answer"] = "answer"
    # A message that asks nothing (no question) asks nothing of the past either: the
    # model is not asked for search words.
    if round_number < run.ctx.max_retrieval_rounds and is_question(turn["text"] or ""):
        following = next_query(state, run, memories, queries)
        if following is not None:
            decision = "retrieve"
            queries.append(following)
    return run.finish({"memories": memories[len(before):],
                       "retrieval": {"round": round_number, "queries": queries,
                                     "next": decision}})


def search_round(state: State, run: NodeRun, query: RetrievalQuery, round_number: int
                 ) -> list[RetrievedMemory]:
    """One round's search: the memories not shown yet that answer ``query``, as the reply
    prompt shows them."""
    ctx, res, turn = run.ctx, run.res, state["turn"]
    window = _window(query, run) if ctx.temporal_filter else None
    seen = [m["id"] for m in state.get("memories", [])]
    exclude = [*seen, turn["id"], *(t["id"] for t in state["background"]["recent"])]
    with run.meter.store():
        k = ctx.retrieval_k if round_number == 1 else min(ctx.retrieval_k, LATER_ROUND_K)
        notes = preference_notes(res.memory.preferences(ctx.user_id, history=True))
        search = res.search if ctx.use_consolidation else res.search.with_config(
            replace(res.search.config, labels=tuple(
                label for label in res.search.config.labels
                if label not in CONSOLIDATED_LABELS)))
        hits = search.search(ctx.user_id, query["keywords"], 2 * k,
                             window=window, exclude=exclude,
                             keep=lambda node: tells_the_reply(node, notes))
    raw_shown = {m["id"] for m in state.get("memories", []) if m["label"] == "Turn"}
    hits = without_restatements(hits, raw_shown)[:k]
    return [memory_record(hit, render_hit(hit, notes), round_number, query["keywords"])
            for hit in hits]


def next_query(state: State, run: NodeRun, memories: list[RetrievedMemory],
               queries: list[RetrievalQuery]) -> RetrievalQuery | None:
    """The model's search words (and time window) for another round; None when it gives
    nothing new, or what it gives is shown already."""
    turn = state["turn"]
    # The decision reads the photos' captions, not the photos: it only picks keywords.
    messages = reply_messages({**state, "memories": memories}, run.ctx, hint=False)
    last = messages[-1]
    messages[-1] = HumanMessage(f"{last.text!s}{DECIDE_SUFFIX}")
    try:
        choice = call_structured(run.res.chat, messages, RetrievalDecision, run.meter,
                                 "retrieve_decision", shape=DECIDE_SHAPE, max_tokens=60)
    except StructuredOutputError as exc:
        run.error("model_output", f"{exc}; answering with the memories found so far")
        return None
    # A small model dates every search; a window counts only when the message names a
    # time, and search words need more than dates.
    timed = names_a_time(turn["text"] or "")
    start, end = (choice.start, choice.end) if timed else (None, None)
    keywords = choice.keywords.strip() if tokenize(re.sub(r"\d", " ", choice.keywords)) else ""
    query: RetrievalQuery = {"keywords": keywords, "start": start, "end": end}
    windowed = bool(start or end) and run.ctx.temporal_filter
    if keywords and query not in queries and (
            windowed or not already_shown(keywords, memories)):
        return query
    return None


def route_after_retrieve(state: State) -> Literal["retrieve", "infer_personality"]:
    return "retrieve" if state["retrieval"]["next"] == "retrieve" else "infer_personality"


def tells_the_reply(node: Node, notes: dict[str, str]) -> bool:
    """Whether a memory may be shown to the reply. Not the assistant's own earlier
    replies: what the assistant said is no evidence of what the user told it (a wrong
    answer must not come back as a memory). Not bare entities (a name and a kind, no
    summary, no preference): such a line tells the reply nothing (four of seven lines of a
    probe's prompt were "Gdańsk (other)" and the like). The search drops them before its
    cut: dropped after it, they left 59 of 100 assistant-set probes with fewer than the
    4 memories asked for, and the assistant's replies, which restate the user's words,
    took the places of the messages that said them."""
    if isinstance(node, Turn):
        return node.role != "assistant"
    return not (isinstance(node, Entity) and not node.summary and node.id not in notes)


def without_restatements(hits: list[MemoryHit], raw_shown: set[str]) -> list[MemoryHit]:
    """The hits without the derived memories (facts, topics) whose every source turn is
    shown already, or ranked above them: the raw turn holds the exact words, and a copy of
    it would take the place of another memory."""
    seen = set(raw_shown)
    kept = []
    for hit in hits:
        if isinstance(hit.node, Turn):
            seen.add(hit.node.id)
        elif hit.provenance and set(hit.provenance) <= seen:
            continue
        kept.append(hit)
    return kept


def already_shown(keywords: str, memories: list[RetrievedMemory]) -> bool:
    """Whether one memory shown holds every search word: the model then looks for
    something the prompt already has, and another round would only cost tokens."""
    words = set(tokenize(keywords))
    return bool(words) and any(words <= set(tokenize(m["content"])) for m in memories)


def _window(spec: RetrievalQuery, run: NodeRun) -> TimeWindow | None:
    """The model's dates as a half-open window; the end day is included whole."""
    start, end = spec["start"], spec["end"]
    if not start and not end:
        return None
    try:
        lo = parse_timestamp(start) if start else None
        hi = parse_timestamp(end) + timedelta(days=1) if end else None
        if lo is not None and hi is not None and hi <= lo:
            lo, hi = hi - timedelta(days=1), lo + timedelta(days=1)
        return TimeWindow(lo, hi)
    except InvalidInputError as exc:
        run.error("time_window", f"retrieve: ignored the time window {start!r}..{end!r}: {exc}")
        return None


