"""Who talks with the users of the assistant set: our agent (and its ablations) and the
references, all on the same chat model.

A conversant hears a dialogue as a person says it: every message gets a reply; then, as
after an idle gap, it finishes its background work; then each probe is asked on its own,
at its time, with nothing new stored. The references keep the user's past messages in
Python and put them in one plain prompt (``REFERENCE_SYSTEM``, the same for each):

- ``full-context``: the whole past conversation, both sides, dated (oldest dropped to fit);
- ``simple-rag``: the 5 past messages of the user that best match the message (RRF of
  BM25 and MiniLM cosine, k = 60, the LoCoMo harness's ``simple-rag``), dated;
- ``no-memory``: nothing of the past.

Every conversant also sees the current session's messages, as any chat does."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider
from agent_runtime.structured import invoke_model
from evals.assistant_set import Dialogue
from evals.model_calls import ModelCallLog
from evals.system_names import ASSISTANT_REFERENCES
from evals.systems import RAG_K, SIMPLE_RRF_K, WINDOW_RESERVE_TOKENS, count_tokens
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.embedding import Embedder
from memory_graph.errors import ConfigurationError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel, Turn
from memory_graph.search import HybridSearch, recipe
from memory_graph.timeparse import parse_timestamp
from nodes.state import error_text

#: The references' one prompt: who they are, what they know, how to reply. No example
#: content, and the same words for every reference.
REFERENCE_SYSTEM = """You are {assistant}, {user}'s personal assistant. {intro}
Reply to {user}'s last message naturally and briefly. If it asks about something you do \
not know, say that {user} has not told you."""

INTROS = {
    "full-context": "Here is everything {user} and you said in earlier conversations "
                    "(the oldest part may be cut to fit):\n{context}",
    "simple-rag": "Here are the messages of {user}'s earlier conversations that best match "
                  "the last message:\n{context}",
    "no-memory": "You remember nothing of earlier conversations.",
}
REFERENCE_NAMES = ASSISTANT_REFERENCES


@dataclass
class Turnout:
    """One reply and what it cost."""

    text: str
    #: What reached the prompt from memory (one line each).
    shown: list[str]
    prompt_tokens: int
    model_calls: int
    seconds: float
    errors: list[str] = field(default_factory=list)


class Conversant(Protocol):
    name: str

    def begin(self, dialogue: Dialogue, keep: bool = False) -> None:
        """Start a dialogue with no memory of it, or (``keep``) with the memory an earlier
        hearing of it left."""

    def say(self, text: str, at: str, new_session: bool) -> Turnout:
        """The reply to a message of the dialogue (remembered)."""

    def settle(self) -> dict[str, Any]:
        """Finish background memory work, as after an idle gap."""

    def ask(self, text: str, at: str) -> Turnout:
        """The reply to a probe (nothing stored)."""

    def trait_scores(self) -> dict[str, float] | None:
        """The inferred Big Five, when the conversant infers one."""

    def close(self) -> None: ...


class OursConversant:
    """The agent through ``graphs.Assistant``, as the command line and Python users drive
    it (background memory work on), with ``overrides`` of its context (the ablations)."""

    def __init__(self, name: str, chat: BaseChatModel, embedder: Embedder, store_dir: Path,
                 overrides: dict[str, Any], max_reply_tokens: int) -> None:
        self.name = name
        self.store = NetworkxStore(store_dir)
        self.provider = ResourceProvider(chat_model=chat, embedder=embedder, store=self.store,
                                         media_dir=store_dir / "media")
        self.agent = build_agent(provider=self.provider)
        self.overrides = {**overrides, "max_reply_tokens": max_reply_tokens}
        self.assistant: Assistant | None = None
        #: The model calls of memory work are counted between ``begin`` and ``settle``'s end.
        self.calls = ModelCallLog()
        chat.callbacks = [*(chat.callbacks if isinstance(chat.callbacks, list) else []),
                          self.calls]
        self.began = time.perf_counter()

    def begin(self, dialogue: Dialogue, keep: bool = False) -> None:
        self.began = time.perf_counter()
        context = replace(Context(user_id=dialogue.id, user_name=dialogue.user_name),
                          **self.overrides)
        self.assistant = Assistant(context, self.agent, self.provider)
        if keep:
            if not self.assistant.resources.memory.has_user(dialogue.id):
                raise ConfigurationError(f"no memory of {dialogue.id} to ask again")
        elif self.assistant.resources.memory.has_user(dialogue.id):
            self.assistant.forget(everything=True)  # a run cut short left a partial replay

    def _run(self, text: str, at: str, **overrides: Any) -> Turnout:
        assert self.assistant is not None
        start = time.perf_counter()
        out = self.assistant.say(text, at=at, **overrides)
        cost = out.get("cost") or {}
        shown = [m["text"] for m in out.get("memories", [])]
        return Turnout(text=str(out.get("reply", "")).strip(), shown=shown,
                       prompt_tokens=int(cost.get("prompt_tokens", 0)),
                       model_calls=int(cost.get("model_calls", 0)),
                       seconds=time.perf_counter() - start,
                       errors=[error_text(e) for e in out.get("errors", [])])

    def say(self, text: str, at: str, new_session: bool) -> Turnout:
        return self._run(text, at)

    def settle(self) -> dict[str, Any]:
        assert self.assistant is not None
        start = time.perf_counter()
        synced = self.assistant.sync(progress=lambda _line: None)
        finished = self.assistant.finish_sessions()
        return {"sync": synced, "last_session": finished.get("status", "done"),
                "seconds": round(time.perf_counter() - start, 1),
                "background_calls": self.calls.background_by_kind(self.began,
                                                                  time.perf_counter())}

    def ask(self, text: str, at: str) -> Turnout:
        return self._run(text, at, update_memory=False)

    def trait_scores(self) -> dict[str, float] | None:
        assert self.assistant is not None
        trajectory = self.assistant.personality_trajectory()
        return dict(trajectory[-1].scores) if trajectory else None

    def close(self) -> None:
        self.provider.close()
        self.store.close()


@dataclass
class _Said:
    role: str
    text: str
    at: str


class ReferenceConversant:
    """A reference: one model call per reply, its memory in Python (``simple-rag`` keeps
    the user's messages in a memory graph of its own, for the same hybrid search the LoCoMo
    harness's ``simple-rag`` uses)."""

    def __init__(self, name: str, chat: BaseChatModel, embedder: Embedder, store_dir: Path,
                 max_reply_tokens: int, window_tokens: int) -> None:
        if name not in INTROS:
            raise ValueError(f"unknown reference {name!r}")
        self.name = name
        self.chat = chat
        self.max_reply_tokens = max_reply_tokens
        self.window_tokens = window_tokens
        self.store = NetworkxStore(store_dir) if name == "simple-rag" else None
        self.memory = MemoryGraph(self.store, embedder) if self.store is not None else None
        self.search = HybridSearch(self.memory, recipe(
            "hybrid_fast", labels=(NodeLabel.TURN,),
            rrf_k=SIMPLE_RRF_K)) if self.memory is not None else None
        self.dialogue: Dialogue | None = None
        self.past: list[_Said] = []
        self.session: list[_Said] = []

    def begin(self, dialogue: Dialogue, keep: bool = False) -> None:
        if keep:
            raise ConfigurationError(f"{self.name} hears every dialogue; its records of an "
                                     "earlier hearing are taken from that run's log")
        self.dialogue = dialogue
        self.past, self.session = [], []
        if self.memory is not None:
            if self.memory.has_user(dialogue.id):
                self.memory.forget_user(dialogue.id)
            self.memory.ensure_user(dialogue.id, dialogue.user_name)

    def _context(self, text: str) -> list[str]:
        assert self.dialogue is not None
        if self.name == "full-context":
            lines = [f"[{s.at[:10]}] {'me' if s.role == 'assistant' else self.dialogue.user_name}"
                     f": {s.text}" for s in self.past]
            budget = self.window_tokens - WINDOW_RESERVE_TOKENS - 400
            kept: list[str] = []
            used = 0
            for line in reversed(lines):
                used += count_tokens(self.chat, line) + 1
                if used > budget:
                    break
                kept.append(line)
            return list(reversed(kept))
        if self.search is not None and self.past:
            hits = self.search.search(self.dialogue.id, text, RAG_K)
            turns = sorted((h.node for h in hits if isinstance(h.node, Turn)),
                           key=lambda t: (t.at, t.seq))
            return [f"[{t.at:%Y-%m-%d}] {t.text}" for t in turns]
        return []

    def _reply(self, text: str, at: str, conversation: Sequence[_Said]) -> Turnout:
        assert self.dialogue is not None
        start = time.perf_counter()
        shown = self._context(text)
        user = self.dialogue.user_name
        intro = INTROS[self.name].format(user=user, context="\n".join(shown) or "(nothing)")
        messages: list[BaseMessage] = [SystemMessage(REFERENCE_SYSTEM.format(
            assistant="Persona", user=user, intro=intro))]
        for said in conversation:
            messages.append(AIMessage(said.text) if said.role == "assistant"
                            else HumanMessage(said.text))
        messages.append(HumanMessage(f"[Now: {at}]\n{text}"))
        meter = CostMeter()
        model = self.chat.bind(max_tokens=self.max_reply_tokens)
        reply = str(invoke_model(model, messages, meter, "respond").text).strip()
        return Turnout(text=reply, shown=shown, prompt_tokens=meter.prompt_tokens,
                       model_calls=meter.model_calls, seconds=time.perf_counter() - start)

    def say(self, text: str, at: str, new_session: bool) -> Turnout:
        assert self.dialogue is not None
        if new_session:
            self.session = []
        turnout = self._reply(text, at, self.session)
        said = [_Said("user", text, at), _Said("assistant", turnout.text, at)]
        self.session += said
        self.past += said
        if self.memory is not None:
            self.memory.add_turns(self.dialogue.id, [TurnInput(
                text=text, at=parse_timestamp(at), session_id=f"s{len(self.past)}",
                role="user", speaker=self.dialogue.user_name)])
        return turnout

    def settle(self) -> dict[str, Any]:
        return {}

    def ask(self, text: str, at: str) -> Turnout:
        return self._reply(text, at, [])

    def trait_scores(self) -> dict[str, float] | None:
        return None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
