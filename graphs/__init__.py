"""LangGraph graphs of PersonaVLM: ``build_agent`` and its ``Context``.

``build_agent`` is imported lazily: the node modules import ``graphs.context``, and an eager
import of the agent here would make ``import nodes.<anything>`` circular."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphs.context import Context

if TYPE_CHECKING:
    from graphs.agent import Agent, build_agent

__all__ = ["Agent", "Context", "build_agent"]


def __getattr__(name: str) -> Any:
    if name in ("Agent", "build_agent"):
        from graphs import agent

        return getattr(agent, name)
    raise AttributeError(f"module 'graphs' has no attribute {name!r}")
