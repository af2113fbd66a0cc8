"""Per-turn cost figures: model calls, tokens, model and store milliseconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from langchain_core.messages import AIMessage
from typing_extensions import TypedDict


class Cost(TypedDict, total=False):
    """A meter's figures (``CostMeter.as_dict``); a turn's are the sum of its nodes'."""
    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    model_ms: float
    store_ms: float
    max_prompt_tokens: int
    by_step: dict[str, int]
    ms_by_step: dict[str, float]


@dataclass
class CostMeter:
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_ms: float = 0.0
    store_ms: float = 0.0
    #: Prompt tokens of the largest single call (the answer prompt, for respond).
    max_prompt_tokens: int = 0
    by_step: dict[str, int] = field(default_factory=dict)
    #: Model milliseconds per step: where a turn's latency goes.
    ms_by_step: dict[str, float] = field(default_factory=dict)

    def record(self, step: str, message: AIMessage, elapsed_ms: float) -> None:
        usage: dict[str, Any] = dict(message.usage_metadata or {})
        prompt = int(usage.get("input_tokens", 0))
        self.model_calls += 1
        self.prompt_tokens += prompt
        self.completion_tokens += int(usage.get("output_tokens", 0))
        self.model_ms += elapsed_ms
        self.max_prompt_tokens = max(self.max_prompt_tokens, prompt)
        self.by_step[step] = self.by_step.get(step, 0) + 1
        self.ms_by_step[step] = round(self.ms_by_step.get(step, 0.0) + elapsed_ms, 1)

    @contextmanager
    def store(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.store_ms += (time.perf_counter() - start) * 1000

    def as_dict(self) -> Cost:
        data = asdict(self)
        data["model_ms"] = round(self.model_ms, 1)
        data["store_ms"] = round(self.store_ms, 1)
        return cast(Cost, data)


def merge_costs(left: Cost | None, right: Cost | None) -> Cost:
    """LangGraph reducer: each node reports its own meter; the turn's cost is the sum."""
    total: dict[str, object] = dict(left or {})
    for key, value in (right or {}).items():
        old = total.get(key)
        if isinstance(value, dict):
            merged = dict(old) if isinstance(old, dict) else {}
            for step, amount in value.items():
                merged[step] = round(merged.get(step, 0) + amount, 1)
            total[key] = merged
        elif key == "max_prompt_tokens" and isinstance(value, int | float):
            total[key] = max(value, old if isinstance(old, int | float) else 0)
        elif isinstance(value, int | float):
            total[key] = round((old if isinstance(old, int | float) else 0) + value, 1)
        else:
            total[key] = value
    return cast(Cost, total)
