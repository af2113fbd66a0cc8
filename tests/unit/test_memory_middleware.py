"""``PersonaMemoryMiddleware`` in a LangChain v1 agent (``create_agent``) with a SCRIPTED
FAKE chat model (wiring only; the offline model's run is in tests/integration): the
user's memories reach the model with the user's message and the personality in the
system message, for that call and not in the agent's state; the exchange is recorded
after the turn; the user comes from the run (context, then an authenticated user over a
given one); a run without a user gets nothing and records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain.agents import create_agent
from langchain_core.messages import BaseMessage, SystemMessage

from memory_graph.errors import UnknownUserError
from personavlm import Memory, PersonaMemoryMiddleware


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[Memory]:
    with Memory(tmp_path / "memory", embedder=HashingEmbedder(), search="hybrid_fast") as m:
        yield m


def reply(messages: list[BaseMessage]) -> str:
    return "Noted."


def system_of(call: list[BaseMessage]) -> str:
    return "".join(str(m.content) for m in call if isinstance(m, SystemMessage))


def test_memories_reach_the_model_and_the_exchange_is_recorded(memory: Memory) -> None:
    memory.add("My sister Ines plays the cello.", user_id="ana", at="2024-03-01 10:00")
    model = ScriptedFakeChatModel(script=reply)
    agent = create_agent(model, tools=[], system_prompt="You are helpful.",
                         middleware=[PersonaMemoryMiddleware(memory)])
    out = agent.invoke({"messages": [("user", "What instrument does my sister play?")]},
                       context={"user_id": "ana"})
    seen = system_of(model.calls[-1])
    assert seen.startswith("You are helpful.") and "personality" in seen
    asked = str(model.calls[-1][-1].content)
    assert "My sister Ines plays the cello." in asked
    assert asked.endswith("What instrument does my sister play?")
    assert not any("Ines" in str(m.content) for m in out["messages"]
                   if m.type != "human"), "memories must not enter the agent's state"
    texts = [r["text"] for r in memory.get_all("ana")]
    assert texts[-2:] == ["What instrument does my sister play?", "Noted."]


def test_the_authenticated_user_wins_and_no_user_gets_nothing(memory: Memory) -> None:
    memory.add("I keep bees.", user_id="ben", at="2024-03-01 10:00")
    model = ScriptedFakeChatModel(script=reply)
    agent = create_agent(model, tools=[], middleware=[PersonaMemoryMiddleware(memory)])
    agent.invoke({"messages": [("user", "Tell me about my hobby, bees.")]},
                 context={"user_id": "ana"},
                 config={"configurable": {"langgraph_auth_user_id": "ben"}})
    assert "I keep bees." in str(model.calls[-1][-1].content)
    with pytest.raises(UnknownUserError):
        memory.get_all("ana")
    agent.invoke({"messages": [("user", "Anything about bees?")]})
    assert "I keep bees." not in str(model.calls[-1][-1].content)
    assert len(memory.get_all("ben")) == 3  # the first exchange only
