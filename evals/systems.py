"""The systems compared in one evaluation run: same chat model, same embeddings, same store.

Honest references:

- ``simple-rag``: the simplest thing that works — the top-5 raw turns by reciprocal-rank
  fusion of BM25 and MiniLM cosine, shown in the order they were said with their dates, in
  one short user message (``EXCERPTS_PROMPT``), 32 answer tokens.
- ``oracle``: the gold evidence turns of the question (where the benchmark has them) in
  the same prompt: what a perfect retriever would give that prompt.

The paper's baselines:

- ``rag-turns``: the top-5 raw turns by embedding similarity in the assistant's persona
  prompt (the PersonaMem / PersonaVLM RAG baseline).
- ``paper-memory``: the paper's flat memory — semantic (facts, preferences), episodic
  (topics) and procedural (routines) lists in a flat vector index, k = 4/2/2, no temporal
  filter, no graph, one retrieval.

And ``no-memory`` (the question alone), ``full-context`` (the whole history, oldest turns
dropped until it fits the model window), ``ours`` and its ablations (the LangGraph agent
with memory updates off).

The paper's baselines share one prompt layout (``BASELINE_SYSTEM``); every system gets the
same question text, so differences come from what each puts in front of the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.structured import invoke_model
from evals.system_names import ALL_SYSTEMS, OURS_VARIANTS
from graphs.agent import Agent
from memory_graph.errors import ConfigurationError
from memory_graph.graph import MemoryGraph
from memory_graph.relative_dates import day_text
from memory_graph.schema import EdgeType, Event, Fact, NodeLabel, Routine, Turn
from memory_graph.search import HybridSearch, recipe
from nodes.state import InputState, OutputState, error_text

BASELINE_SYSTEM = """You are {assistant}, a personal assistant. You are talking with {user}. \
{intro} Answer {user}'s last message directly and briefly. If the answer is not in what you \
know, say so."""

RAG_K = 5
#: The harness's answer format: the benchmarks score short answers (token F1), so every
#: system is given this same instruction after the question. It is the protocol's, not the
#: agent's: ours gets it through ``Context.answer_format``.
SHORT_ANSWER_FORMAT = "Answer the question in a few words."
EXCERPTS_PROMPT = "Conversation excerpts:\n{excerpts}\n\n{answer_format}, using the " \
                  "excerpts. Question: {question}"
EXCERPT_ANSWER_TOKENS = 32
#: The usual reciprocal-rank-fusion constant (Cormack et al., 2009).
SIMPLE_RRF_K = 60.0
PAPER_K = {"semantic": 4, "episodic": 2, "procedural": 2}
#: Room left in the window for the question and the answer when filling it with history.
WINDOW_RESERVE_TOKENS = 600



@dataclass(frozen=True)
class Query:
    """One question to one user's memory."""

    item_id: str
    context: Context
    text: str
    at: str
    images: tuple[Any, ...] = ()
    #: Ids of the turns that hold the answer, where the benchmark gives them (``oracle``).
    evidence: tuple[str, ...] = ()
    #: The protocol's answer instruction, the same for every system.
    answer_format: str = SHORT_ANSWER_FORMAT


@dataclass
class Reply:
    text: str
    #: Turn ids whose content reached the prompt, best first (derived memories count for
    #: the turns they were extracted from).
    retrieved: list[str]
    prompt_tokens: int
    completion_tokens: int
    model_calls: int
    seconds: float
    errors: list[str] = field(default_factory=list)
    #: Retrieval rounds the answer took (ours; 1 for a single search).
    retrieval_rounds: int = 1
    #: Whether a round searched within a time window (ours).
    time_window: bool = False
    #: Prompt memories only the graph neighbourhood found (ours).
    graph_memories: int = 0


class System(Protocol):
    name: str

    def answer(self, query: Query) -> Reply: ...


@dataclass
class Workbench:
    """What every system of one run shares."""

    chat: BaseChatModel
    memory: MemoryGraph
    agent: Agent
    window_tokens: int
    max_answer_tokens: int = 96


def count_tokens(chat: BaseChatModel, text: str) -> int:
    counter: Callable[[str], int] | None = getattr(chat, "count_tokens", None)
    return counter(text) if counter is not None else max(1, len(text) // 4)


def _turn_line(turn: Turn) -> str:
    return f"[{turn.at:%Y-%m-%d}] {turn.search_text()}"


class _Baseline:
    name = ""
    intro = ""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench

    def context_for(self, query: Query) -> tuple[str, list[str]]:
        """The text put before the question and the turn ids it covers."""
        return "", []

    def answer(self, query: Query) -> Reply:
        start = time.perf_counter()
        context, retrieved = self.context_for(query)
        ctx = query.context
        system = BASELINE_SYSTEM.format(assistant=ctx.assistant_name, user=ctx.display_name,
                                        intro=self.intro)
        messages: list[BaseMessage] = [SystemMessage(f"{system}\n\n{context}".strip())]
        messages.append(HumanMessage(f"[Now: {query.at}]\n\n{query.text}\n\n"
                                     f"({query.answer_format})"))
        meter = CostMeter()
        model = self.bench.chat.bind(max_tokens=self.bench.max_answer_tokens)
        text = str(invoke_model(model, messages, meter, "answer").text).strip()
        return Reply(text=text, retrieved=retrieved, prompt_tokens=meter.prompt_tokens,
                     completion_tokens=meter.completion_tokens, model_calls=meter.model_calls,
                     seconds=time.perf_counter() - start)

    def turns(self, user_id: str) -> list[Turn]:
        return self.bench.memory.turns(user_id)


class NoMemory(_Baseline):
    name = "no-memory"
    intro = "You remember nothing of earlier conversations."


class FullContext(_Baseline):
    """The history as one transcript in the system prompt (a stable prefix, so a local
    model evaluates it once per user and reuses its cache for every question)."""

    name = "full-context"
    intro = "Here is the transcript of your earlier conversations (the oldest part may " \
            "be cut to fit)."

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self._cache: dict[str, tuple[str, list[str]]] = {}

    def context_for(self, query: Query) -> tuple[str, list[str]]:
        user_id = query.context.user_id
        if user_id not in self._cache:
            self._cache[user_id] = self._transcript(user_id)
        return self._cache[user_id]

    def _transcript(self, user_id: str) -> tuple[str, list[str]]:
        budget = self.bench.window_tokens - WINDOW_RESERVE_TOKENS - 200
        kept: list[Turn] = []
        used = 0
        for turn in reversed(self.turns(user_id)):
            cost = count_tokens(self.bench.chat, _turn_line(turn)) + 1
            if used + cost > budget:
                break
            kept.append(turn)
            used += cost
        kept.reverse()
        text = "Transcript:\n" + "\n".join(_turn_line(t) for t in kept)
        return text, [t.id for t in reversed(kept)]


class RagTurns(_Baseline):
    name = "rag-turns"
    intro = "Here are the most similar passages of your earlier conversations."

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.search = HybridSearch(bench.memory, recipe("dense", labels=(NodeLabel.TURN,)))

    def context_for(self, query: Query) -> tuple[str, list[str]]:
        hits = self.search.search(query.context.user_id, query.text, RAG_K)
        turns = [h.node for h in hits if isinstance(h.node, Turn)]
        listing = "\n".join(f"- {_turn_line(t)}" for t in turns) or "- (none)"
        return f"Passages:\n{listing}", [t.id for t in turns]


@dataclass
class _FlatMemory:
    texts: list[str]
    sources: list[list[str]]
    vectors: np.ndarray


class PaperMemory(_Baseline):
    """The paper's flat memory over the same extracted memories our graph holds."""

    name = "paper-memory"
    intro = "Here are your memories of the user (semantic, episodic, procedural)."

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self._index: dict[str, dict[str, _FlatMemory]] = {}

    def context_for(self, query: Query) -> tuple[str, list[str]]:
        user_id = query.context.user_id
        if user_id not in self._index:
            self._index[user_id] = self._build(user_id)
        vector = np.asarray(self.bench.memory.embedder.embed_query(query.text))
        sections, retrieved = [], []
        for kind, k in PAPER_K.items():
            flat = self._index[user_id][kind]
            if not flat.texts:
                continue
            order = np.argsort(-(flat.vectors @ vector))[:k]
            sections.append(f"{kind}:\n" + "\n".join(f"- {flat.texts[i]}" for i in order))
            retrieved += [t for i in order for t in flat.sources[i]]
        listing = "\n".join(sections) or "(no memories)"
        return f"Memories:\n{listing}", list(dict.fromkeys(retrieved))

    def _build(self, user_id: str) -> dict[str, _FlatMemory]:
        memory = self.bench.memory
        items: dict[str, list[tuple[str, str]]] = {k: [] for k in PAPER_K}
        for node in memory.nodes(user_id, NodeLabel.FACT):
            if isinstance(node, Fact):
                items["semantic"].append((node.id, f"[{node.at:%Y-%m-%d}] {node.statement}"))
        for edge in self.bench.memory.preferences(user_id, history=True):
            names = self.bench.memory.preference_names(user_id, [edge])
            verb = "likes" if edge.type is EdgeType.PREFERS else "dislikes"
            when = f"[{edge.valid_from:%Y-%m-%d}] " if edge.valid_from else ""
            items["semantic"].append((edge.id, f"{when}user {verb} {names[edge.target]}"))
        for node in memory.nodes(user_id, NodeLabel.EVENT):
            if isinstance(node, Event):
                items["episodic"].append((node.id, f"[{node.occurred_at:%Y-%m-%d}] "
                                                   f"{node.summary}"))
        for node in memory.nodes(user_id, NodeLabel.ROUTINE):
            if isinstance(node, Routine):
                items["procedural"].append((node.id, f"{node.kind}: {node.description}"))
        index = {}
        for kind, pairs in items.items():
            texts = [text for _, text in pairs]
            sources = [self._sources(user_id, node_id) for node_id, _ in pairs]
            vectors = np.asarray(self.bench.memory.embedder.embed_documents(texts)) \
                if texts else np.zeros((0, 1))
            index[kind] = _FlatMemory(texts, sources, vectors)
        return index

    def _sources(self, user_id: str, node_id: str) -> list[str]:
        return self.bench.memory.source_turns(user_id, node_id)


class _Excerpts:
    """One user message: dated turns, then the question (``simple-rag`` and ``oracle``)."""

    name = ""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench

    def turns_for(self, query: Query) -> list[Turn]:
        raise NotImplementedError

    def answer(self, query: Query) -> Reply:
        start = time.perf_counter()
        turns = self.turns_for(query)
        shown = sorted(turns, key=lambda t: (t.at, t.seq))
        excerpts = "\n".join(f"[{day_text(t.at)}] {t.search_text()}" for t in shown)
        prompt = EXCERPTS_PROMPT.format(excerpts=excerpts or "(none)", question=query.text,
                                        answer_format=query.answer_format.rstrip("."))
        meter = CostMeter()
        model = self.bench.chat.bind(max_tokens=EXCERPT_ANSWER_TOKENS)
        text = str(invoke_model(model, [HumanMessage(prompt)], meter, "answer").text).strip()
        return Reply(text=text, retrieved=[t.id for t in turns],
                     prompt_tokens=meter.prompt_tokens,
                     completion_tokens=meter.completion_tokens, model_calls=meter.model_calls,
                     seconds=time.perf_counter() - start)


class SimpleRag(_Excerpts):
    name = "simple-rag"

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.search = HybridSearch(bench.memory, recipe(
            "hybrid_fast", labels=(NodeLabel.TURN,),
            rrf_k=SIMPLE_RRF_K))

    def turns_for(self, query: Query) -> list[Turn]:
        hits = self.search.search(query.context.user_id, query.text, RAG_K)
        return [h.node for h in hits if isinstance(h.node, Turn)]


class Oracle(_Excerpts):
    name = "oracle"

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self._turns: dict[str, dict[str, Turn]] = {}

    def turns_for(self, query: Query) -> list[Turn]:
        user_id = query.context.user_id
        if user_id not in self._turns:
            self._turns[user_id] = {t.id: t for t in self.bench.memory.turns(user_id)}
        known = self._turns[user_id]
        return [known[i] for i in dict.fromkeys(query.evidence) if i in known]


class Ours:
    """The agent graph, asked with memory updates off; ``overrides`` make the ablations."""

    def __init__(self, bench: Workbench, name: str, overrides: dict[str, Any]) -> None:
        self.bench = bench
        self.name = name
        self.overrides = overrides

    def answer(self, query: Query) -> Reply:
        start = time.perf_counter()
        ctx = replace(query.context, update_memory=False, max_reply_tokens=
                      self.bench.max_answer_tokens, answer_format=query.answer_format,
                      **self.overrides)
        payload: dict[str, Any] = {"text": query.text, "at": query.at,
                                   "images": list(query.images)}
        out = cast(OutputState, self.bench.agent.invoke(cast(InputState, payload),
                                                        context=ctx))
        retrieved = list(dict.fromkeys(t for m in out.get("memories", [])
                                       for t in m["provenance"]))
        cost: dict[str, Any] = dict(out.get("cost") or {})
        queries = out.get("retrieval", {}).get("queries", [])
        return Reply(text=str(out.get("reply", "")).strip(), retrieved=retrieved,
                     prompt_tokens=int(cost.get("prompt_tokens", 0)),
                     completion_tokens=int(cost.get("completion_tokens", 0)),
                     model_calls=int(cost.get("model_calls", 0)),
                     seconds=time.perf_counter() - start,
                     errors=[error_text(e) for e in out.get("errors", [])],
                     retrieval_rounds=int(out.get("retrieval", {}).get("round", 1)),
                     time_window=ctx.temporal_filter and any(
                         q.get("start") or q.get("end") for q in queries),
                     graph_memories=sum(m.get("found_by") == ["neighbourhood"]
                                        for m in out.get("memories", [])))


def make_systems(bench: Workbench, names: Sequence[str]) -> list[System]:
    factories: dict[str, Callable[[], System]] = {
        "no-memory": lambda: NoMemory(bench),
        "full-context": lambda: FullContext(bench),
        "rag-turns": lambda: RagTurns(bench),
        "simple-rag": lambda: SimpleRag(bench),
        "oracle": lambda: Oracle(bench),
        "paper-memory": lambda: PaperMemory(bench),
    }
    systems: list[System] = []
    for name in names:
        if name in OURS_VARIANTS:
            systems.append(Ours(bench, name, OURS_VARIANTS[name]))
        elif name in factories:
            systems.append(factories[name]())
        else:
            raise ConfigurationError(
                f"unknown system {name!r}; choose from {', '.join(ALL_SYSTEMS)}")
    return systems
