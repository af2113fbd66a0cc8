"""The LangGraph graph of PersonaVLM: ``build_agent`` and its run-time ``Context``.

The nodes, the state and the context live in ``nodes``; this package wires them into a
graph and is the entry point for Python callers and the LangGraph server."""

from agent_runtime.context import Context
from graphs.agent import Agent, build_agent

__all__ = ["Agent", "Context", "build_agent"]
