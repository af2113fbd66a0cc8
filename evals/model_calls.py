"""Every chat model call of a run, by the kind its ``personavlm:<step>`` tag names, seen
by a LangChain callback on the chat model: what ``bench agent`` and ``eval assistant``
count as foreground (the user waits for it) and background (memory work) calls."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

#: Calls the user waits for; every other kind is background memory work.
FOREGROUND_STEPS = ("respond", "retrieve_decision", "describe_image")
TAG_PREFIX = "personavlm:"


@dataclass
class ModelCall:
    step: str
    started: float
    ended: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def foreground(self) -> bool:
        return self.step.split(":")[0] in FOREGROUND_STEPS


class ModelCallLog(BaseCallbackHandler):
    """Every chat model call, by the kind its tag names, with its time and tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[UUID, ModelCall] = {}
        self.calls: list[ModelCall] = []

    def on_chat_model_start(self, serialized: dict[str, Any],
                            messages: list[list[BaseMessage]], *, run_id: UUID,
                            tags: list[str] | None = None, **kwargs: Any) -> None:
        step = next((t.removeprefix(TAG_PREFIX) for t in tags or ()
                     if t.startswith(TAG_PREFIX)), "untagged")
        with self._lock:
            self._open[run_id] = ModelCall(step, time.perf_counter())

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        usage: dict[str, Any] = {}
        for generations in response.generations:
            for generation in generations:
                usage = dict(getattr(getattr(generation, "message", None),
                                     "usage_metadata", None) or {})
        with self._lock:
            call = self._open.pop(run_id, None)
            if call is None:
                return
            call.ended = time.perf_counter()
            call.prompt_tokens = int(usage.get("input_tokens", 0))
            call.completion_tokens = int(usage.get("output_tokens", 0))
            self.calls.append(call)

    def between(self, start: float, end: float) -> list[ModelCall]:
        with self._lock:
            return [c for c in self.calls if start <= c.started < end]

    def background_by_kind(self, start: float, end: float) -> dict[str, int]:
        """The background calls that began between ``start`` and ``end``, by kind."""
        return dict(Counter(c.step for c in self.between(start, end) if not c.foreground))
