"""The offline model, loaded for real, in a LangChain v1 agent (``create_agent``): it calls
the memory tools (keeps a fact, finds it in the next conversation, and answers from the
result), and with ``PersonaMemoryMiddleware`` it answers from what the user said in an
earlier run, with the exchange recorded and its memory work done by ``close``."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel

from agent_memory.base_store import MemoryGraphStore
from agent_memory.tools import create_remember_tool, create_search_memory_tool
from personavlm import Memory, PersonaMemoryMiddleware
from providers.chat import make_chat_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat() -> BaseChatModel:
    return make_chat_model("llamacpp")


def test_the_offline_model_calls_the_memory_tools(chat: BaseChatModel, tmp_path: Path) -> None:
    store = MemoryGraphStore.from_location(tmp_path / "memory")
    agent = create_agent(chat, tools=[create_search_memory_tool(), create_remember_tool()],
                         store=store)
    told = agent.invoke({"messages": [("user", "Remember that I'm allergic to peanuts.")]},
                        context={"user_id": "ana"})
    assert [c["name"] for m in told["messages"] for c in getattr(m, "tool_calls", [])] == [
        "remember"]
    asked = agent.invoke({"messages": [("user", "Which food am I allergic to?")]},
                         context={"user_id": "ana"})
    calls = [c["name"] for m in asked["messages"] for c in getattr(m, "tool_calls", [])]
    assert calls == ["search_memory"]
    assert "peanut" in str(asked["messages"][-1].content).lower()


def test_the_middleware_answers_from_an_earlier_run(chat: BaseChatModel,
                                                    tmp_path: Path) -> None:
    memory = Memory(tmp_path / "memory", model=chat)
    agent = create_agent(chat, tools=[], middleware=[PersonaMemoryMiddleware(memory)])
    agent.invoke({"messages": [("user", "My sister Ines plays the cello in an orchestra.")]},
                 context={"user_id": "ana"})
    asked = agent.invoke({"messages": [("user", "Which instrument does my sister play?")]},
                         context={"user_id": "ana"})
    assert "cello" in str(asked["messages"][-1].content).lower()
    memory.sync("ana")  # the turns wait for the rest of their extraction window
    kinds = [r["kind"] for r in memory.get_all("ana")]
    memory.close()
    assert kinds.count("user turn") == 2 and kinds.count("assistant turn") == 2
    assert "fact" in kinds, "the model extracted no fact from the exchange"
