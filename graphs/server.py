"""Entry point for ``langgraph.json``: the agent the LangGraph server serves. Models and
stores open on the first run, from that run's context (defaults: the offline model and
the embedded store)."""

from graphs.agent import build_agent
from providers.llama_runtime import configure_openmp

configure_openmp()
graph = build_agent()
