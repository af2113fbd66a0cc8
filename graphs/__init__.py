"""LangGraph graphs of PersonaVLM: ``build_agent`` and its ``Context``."""

from graphs.agent import Agent, build_agent
from graphs.context import Context

__all__ = ["Agent", "Context", "build_agent"]
