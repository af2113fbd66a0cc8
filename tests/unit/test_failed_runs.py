"""A failed run leaves its thread usable and its input discarded (issue 27, hole 5): a
later run of the same thread (a LangGraph checkpointer, as the server keeps threads) reads
only what it is given. Before, a refused message was stored as the text of the next photo
turn, a bad ``at`` or a given reply stayed for every later run, and one unsupported
content block made every later run of the thread fail with the same error."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel, step_of
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent_runtime.resources import ResourceProvider
from graphs import Context, build_agent
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import InvalidInputError

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
       b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
PHOTO = base64.b64encode(PNG).decode()
THREAD = {"configurable": {"thread_id": "t-thread"}}


class Model:
    """Replies "Noted." (JSON steps get ``{}``); ``fail_replies`` reply calls raise first."""

    def __init__(self, fail_replies: int = 0) -> None:
        self.fail_replies = fail_replies

    def __call__(self, messages: list[BaseMessage]) -> str:
        if step_of(messages) != "reply":
            return "{}"
        if self.fail_replies:
            self.fail_replies -= 1
            raise RuntimeError("the model server went away")
        return "Noted."


def make_agent(tmp_path: Path, script: Model | None = None) -> tuple[Any, ScriptedFakeChatModel,
                                                                     ResourceProvider]:
    model = ScriptedFakeChatModel(script=script or Model())
    resources = ResourceProvider(chat_model=model, embedder=HashingEmbedder(),
                                 store=NetworkxStore(tmp_path / "store"),
                                 media_dir=tmp_path / "media")
    agent = build_agent(provider=resources)
    agent.checkpointer = InMemorySaver()
    return agent, model, resources


def ctx() -> Context:
    return Context(user_id="t-ana", user_name="Ana", extract_memories=False)


def said(resources: ResourceProvider) -> list[str]:
    return [t.text for t in resources.resolve(ctx()).memory.turns("t-ana") if t.role == "user"]


@pytest.mark.parametrize("refused", [
    {"text": "x" * 20_001},
    {"text": "lone \ud800 surrogate"},
    {"text": "a date that is none", "at": "the day after never"},
    {"text": "Replayed \ud800", "given_reply": "A given reply."},
])
def test_a_refused_turn_leaves_nothing_for_the_next_run(tmp_path: Path,
                                                        refused: dict[str, Any]) -> None:
    agent, _, resources = make_agent(tmp_path)
    with pytest.raises(InvalidInputError):
        agent.invoke(refused, config=THREAD, context=ctx())
    photo = agent.invoke({"images": [PHOTO]}, config=THREAD, context=ctx())
    assert photo["turn"]["text"] == ""
    assert photo["reply"] == "Noted."  # generated: no given reply left over
    question = agent.invoke({"text": "And now?"}, config=THREAD, context=ctx())
    assert question["reply"] == "Noted."
    assert said(resources) == ["[photo]", "And now?"]
    assert [m.type for m in question["messages"]] == ["human", "ai", "human", "ai"]
    resources.close()


def test_an_unsupported_content_block_does_not_break_the_thread(tmp_path: Path) -> None:
    agent, _, resources = make_agent(tmp_path)
    audio = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Listen to this."},
        {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}]}]}
    with pytest.raises(InvalidInputError, match="audio"):
        agent.invoke(audio, config=THREAD, context=ctx())
    plain = agent.invoke({"text": "Plain text now."}, config=THREAD, context=ctx())
    assert plain["reply"] == "Noted."
    chat = agent.invoke({"messages": [{"role": "user", "content": "And a message."}]},
                        config=THREAD, context=ctx())
    assert [(m.type, m.text) for m in chat["messages"]] == [
        ("human", "Plain text now."), ("ai", "Noted."),
        ("human", "And a message."), ("ai", "Noted.")]
    assert said(resources) == ["Plain text now.", "And a message."]
    resources.close()


@pytest.mark.parametrize("as_message", [False, True])
def test_a_run_that_fails_after_perceive_leaves_no_message(tmp_path: Path,
                                                           as_message: bool) -> None:
    agent, model, resources = make_agent(tmp_path, Model(fail_replies=1))
    turn: dict[str, Any] = ({"messages": [{"role": "user", "content": "My PIN is 4417."}]}
                            if as_message else {"text": "My PIN is 4417."})
    with pytest.raises(RuntimeError, match="went away"):
        agent.invoke(turn, config=THREAD, context=ctx())
    model.calls.clear()
    out = agent.invoke({"text": "Hello again."}, config=THREAD, context=ctx())
    assert [(m.type, m.text) for m in out["messages"]] == [("human", "Hello again."),
                                                          ("ai", "Noted.")]
    assert not any("4417" in str(m.content) for call in model.calls for m in call)
    assert said(resources) == ["Hello again."]
    resources.close()
