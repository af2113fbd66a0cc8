"""The ``memory`` graph on a thread (a checkpointer keeps its channels between runs), with
the SCRIPTED FAKE chat model standing in for the offline one: what one run asked does not
carry over to the next."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langgraph.checkpoint.memory import InMemorySaver

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from graphs.memory_service import build_memory_service
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import UnknownMemoryError
from memory_graph.graph import TurnInput


def test_a_forget_of_everything_does_not_carry_over_to_the_next_forget_on_a_thread(
        tmp_path: Path) -> None:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=lambda _m: ""),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "s"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="ana")
    memory = provider.resolve(context).memory
    graph = build_memory_service(provider, "internal-key")
    graph.checkpointer = InMemorySaver()
    thread = {"configurable": {"thread_id": "ana-thread"}}

    def tell(*texts: str) -> None:
        memory.ensure_user("ana")
        memory.add_turns("ana", [TurnInput(text=t, at=f"2024-03-02 19:0{i}", session_id="s")
                                 for i, t in enumerate(texts)])

    def run(request: dict[str, object]) -> dict[str, object]:
        return asyncio.run(graph.ainvoke(request, config=thread, context=context))

    tell("I have a cat.")
    assert run({"action": "forget", "everything": True})["action"] == "forget"
    tell("I have a dog.", "I live in Porto.")
    dog = next(t.id for t in memory.turns("ana") if "dog" in t.text)
    run({"action": "forget", "turn_id": dog})
    assert [t.text for t in memory.turns("ana")] == ["I live in Porto."]
    with pytest.raises(UnknownMemoryError):  # asks of this turn, not of everything
        run({"action": "forget", "turn_id": dog})
    provider.close()
