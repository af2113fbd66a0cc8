"""The LangMem-style memory tools in a small tool-calling LangGraph graph (a SCRIPTED FAKE
tool-calling model: it only decides which tool to call; the tools, the store and the graph
are real). One user remembers and finds it again in another thread; another user does
not find it; the namespace comes from the run, never from the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.store.base import BaseStore
from typing_extensions import TypedDict

from agent_memory.base_store import MemoryGraphStore
from agent_memory.tools import create_remember_tool, create_search_memory_tool
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.graph import MemoryGraph


class ScriptedFakeToolCallingModel(BaseChatModel):
    """A FAKE chat model for wiring tests: ``script`` turns the conversation so far into the
    next AI message (a tool call or a final answer)."""

    script: Callable[[list[BaseMessage]], AIMessage]

    @property
    def _llm_type(self) -> str:
        return "scripted-fake-tools"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, BaseMessage]:
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.script(list(messages)))])


def script(messages: list[BaseMessage]) -> AIMessage:
    """Remember what follows "remember:", search for what follows "recall:", then answer with
    what the tool said."""
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return AIMessage(content=f"From memory: {last.content}")
    said = str(last.content)
    tool, argument = ("remember", "content") if said.startswith("remember:") else \
        ("search_memory", "query")
    return AIMessage(content="", tool_calls=[{
        "name": tool, "args": {argument: said.split(":", 1)[1].strip()}, "id": "call-1"}])


class UserContext(TypedDict):
    user_id: str


def small_agent(tools: list[BaseTool], store: BaseStore) -> Any:
    model = ScriptedFakeToolCallingModel(script=script).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState, context_schema=UserContext)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(store=store)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryGraphStore]:
    store = MemoryGraphStore(MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder()))
    yield store
    store.close()


def ask(agent: Any, user: str, text: str) -> str:
    result = agent.invoke({"messages": [("user", text)]}, context={"user_id": user})
    return str(result["messages"][-1].content)


def test_an_agent_remembers_and_recalls_through_the_tools(store: MemoryGraphStore) -> None:
    agent = small_agent([create_search_memory_tool(), create_remember_tool()], store)
    assert "Remembered" in ask(agent, "alice", "remember: Alice is allergic to peanuts.")
    recalled = ask(agent, "alice", "recall: peanuts allergy")
    assert "allergic to peanuts" in recalled
    assert "allergic to peanuts" not in ask(agent, "bob", "recall: peanuts allergy")
    item = store.search(("alice", "memories"))[0]
    assert item.value == {"content": "Alice is allergic to peanuts."}


def test_the_authenticated_user_wins_over_the_context(store: MemoryGraphStore) -> None:
    agent = small_agent([create_search_memory_tool(), create_remember_tool()], store)
    agent.invoke({"messages": [("user", "remember: Carol plays the cello.")]},
                 context={"user_id": "mallory"},
                 config={"configurable": {"langgraph_auth_user_id": "carol"}})
    assert store.search(("carol", "memories"))
    assert store.search(("mallory",)) == []


def test_a_missing_user_is_said_not_guessed(store: MemoryGraphStore) -> None:
    tool = create_remember_tool(store=store)
    with pytest.raises(Exception, match="user_id"):
        tool.invoke({"content": "x"}, config={"configurable": {}})
