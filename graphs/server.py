"""Entry point for ``langgraph.json``: the agent the LangGraph server serves. Models and
stores open on the first run, from that run's context (defaults: the offline model and
the embedded store). The server process owns one ``ResourceProvider``; at exit it finishes
queued memory work for at most ``SHUTDOWN_SECONDS`` (logged) and closes the stores."""

import atexit

from graphs.agent import build_agent
from nodes.resources import ResourceProvider
from providers.llama_runtime import configure_openmp

SHUTDOWN_SECONDS = 30.0

configure_openmp()
resources = ResourceProvider()
atexit.register(resources.close, SHUTDOWN_SECONDS)
graph = build_agent(provider=resources)
