"""The PersonaVLM agent graph:
``perceive → extract_memory → retrieve ⟲ → infer_personality → respond``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent_runtime.background import BackgroundWorker
from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from memory_graph.embedding import Embedder
from memory_graph.store import GraphStore
from nodes.extract_memory import extract_memory, route_after_extract
from nodes.infer_personality import infer_personality
from nodes.perceive import perceive
from nodes.queue_memory_work import queue_memory_work
from nodes.respond import respond
from nodes.retrieve import retrieve, route_after_retrieve
from nodes.state import InputState, OutputState, State

Agent = CompiledStateGraph[State, Context, InputState, OutputState]


def build_agent(*, chat_model: BaseChatModel | None = None, embedder: Embedder | None = None,
                store: GraphStore | None = None, media_dir: str | Path | None = None,
                worker: BackgroundWorker | None = None,
                provider: ResourceProvider | None = None, internal_key: str = "") -> Agent:
    """The compiled agent. Pass a LangChain chat model, embeddings or a store to use them
    instead of the ones named in the run's ``Context``; nothing is loaded until a run.
    Pass your own ``provider`` to reach the resources afterwards and close them
    (``provider.close()``); otherwise they live as long as the process. A provider whose
    policy queues memory work (the server's) adds a last node, ``queue_memory_work``, that
    queues it on the server's run queue, on threads whose ids are derived from
    ``internal_key`` (``agent_runtime.internal_threads``)."""
    resources = provider or ResourceProvider(chat_model=chat_model, embedder=embedder,
                                             store=store, media_dir=media_dir, worker=worker)
    builder = StateGraph(State, context_schema=resources.policy.context_schema,
                         input_schema=InputState, output_schema=OutputState)
    builder.add_node("perceive", partial(perceive, provider=resources))
    builder.add_node("extract_memory", partial(extract_memory, provider=resources))
    builder.add_node("retrieve", partial(retrieve, provider=resources))
    builder.add_node("infer_personality", partial(infer_personality, provider=resources))
    builder.add_node("respond", partial(respond, provider=resources))
    builder.add_edge(START, "perceive")
    builder.add_edge("perceive", "extract_memory")
    builder.add_conditional_edges("extract_memory", route_after_extract,
                                  ["retrieve", "infer_personality"])
    builder.add_conditional_edges("retrieve", route_after_retrieve,
                                  ["retrieve", "infer_personality"])
    builder.add_edge("infer_personality", "respond")
    if resources.policy.queues_memory_work:
        builder.add_node("queue_memory_work", partial(queue_memory_work, provider=resources,
                                                      internal_key=internal_key))
        builder.add_edge("respond", "queue_memory_work")
        builder.add_edge("queue_memory_work", END)
    else:
        builder.add_edge("respond", END)
    return builder.compile(name="personavlm")
