"""Test helpers. ``HashingEmbedder`` is a deterministic bag-of-words embedder for store
tests that must not depend on a neural model (retrieval quality is tested with MiniLM)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from memory_graph.conformance import HashingEmbedder as HashingEmbedder  # for the tests


class ScriptedFakeChatModel(BaseChatModel):
    """A FAKE chat model for unit tests of the graph wiring only: ``script`` maps the
    messages of each call to the reply text. Real-model behaviour is tested elsewhere."""

    script: Callable[[list[BaseMessage]], str]
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        text = self.script(list(messages))
        prompt = sum(len(str(m.content).split()) for m in messages)
        reply = AIMessage(content=text, usage_metadata={
            "input_tokens": prompt, "output_tokens": len(text.split()),
            "total_tokens": prompt + len(text.split())})
        return ChatResult(generations=[ChatGeneration(message=reply)])


def step_of(messages: list[BaseMessage]) -> str:
    """Which agent step a prompt belongs to, from the prompts' fixed wording."""
    first, last = str(messages[0].content), str(messages[-1].content)
    if "extract long-term memories" in first:
        return "extract"
    if "consolidate a finished conversation" in first:
        return "consolidate"
    if "signs of the Big Five" in first:
        return "personality"
    if "(Not a reply yet.)" in last or "That output is not valid" in last:
        return "decide"
    if "Known entities of the user" in last:
        return "entity"
    if "New facts from" in last:
        return "reconcile"
    return "reply"


def shared_data_dir() -> Path:
    """``$PERSONA_DATA_DIR``, else ``../shared/data`` beside the project."""
    explicit = os.environ.get("PERSONA_DATA_DIR")
    return Path(explicit) if explicit else \
        Path(__file__).resolve().parents[2] / "shared" / "data"
