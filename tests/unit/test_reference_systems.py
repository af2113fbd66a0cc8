"""The honest references of the LoCoMo harness (wiring only: the SCRIPTED FAKE model
records the prompt it is given). ``simple-rag`` shows its top-5 fused turns in the order
they were said, with their dates; ``oracle`` shows exactly the gold evidence turns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel

from evals.locomo import evidence_ids, load_locomo
from evals.locomo_memory import locomo_context
from evals.systems import EXCERPT_ANSWER_TOKENS, Query, Workbench, make_systems
from graphs.agent import build_agent
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.graph import MemoryGraph

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm" / "samples" / "locomo_sample.json"


@pytest.fixture
def bench(tmp_path: Path) -> Any:
    conversation = load_locomo(SAMPLE)[0]
    store = NetworkxStore(tmp_path / "memory")
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user(conversation.sample_id, conversation.speakers[0])
    memory.add_turns(conversation.sample_id, list(conversation.turns))
    chat = ScriptedFakeChatModel(script=lambda messages: "7 May 2023")
    agent = build_agent(chat_model=chat, embedder=HashingEmbedder(), store=store)
    yield Workbench(chat=chat, memory=memory, agent=agent, window_tokens=8192), conversation
    store.close()


def test_simple_rag_shows_five_dated_turns_in_order(bench: Any) -> None:
    workbench, conversation = bench
    [system] = make_systems(workbench, ["simple-rag"])
    qa = conversation.qa[0]
    reply = system.answer(Query("q", locomo_context(conversation), qa.question, "2024-01-01"))
    assert reply.text == "7 May 2023" and len(reply.retrieved) == 5
    [[message]] = workbench.chat.calls
    prompt = str(message.content)
    assert prompt.startswith("Conversation excerpts:\n[")
    assert prompt.endswith(f"using the excerpts. Question: {qa.question}")
    lines = prompt.split("\n")[1:6]
    turns = {t.id: t for t in workbench.memory.turns(conversation.sample_id)}
    shown = sorted((turns[i] for i in reply.retrieved), key=lambda t: (t.at, t.seq))
    assert [line.split("] ", 1)[1] for line in lines] == [t.search_text() for t in shown]


def test_oracle_shows_the_gold_evidence(bench: Any) -> None:
    workbench, conversation = bench
    [system] = make_systems(workbench, ["oracle"])
    qa = next(q for q in conversation.qa if len(q.evidence) >= 2)
    reply = system.answer(Query("q", locomo_context(conversation), qa.question, "2024-01-01",
                                evidence=qa.evidence))
    assert reply.retrieved == list(qa.evidence)
    prompt = str(workbench.chat.calls[0][0].content)
    assert prompt.count("\n[") == len(qa.evidence)


def test_the_answer_is_capped_at_32_tokens(bench: Any) -> None:
    workbench, conversation = bench
    [system] = make_systems(workbench, ["simple-rag"])
    seen: list[Any] = []
    original = workbench.chat.bind

    def bind(**kwargs: Any) -> Any:
        seen.append(kwargs)
        return original(**kwargs)

    object.__setattr__(workbench.chat, "bind", bind)
    system.answer(Query("q", locomo_context(conversation), "Where?", "2024-01-01"))
    assert seen == [{"max_tokens": EXCERPT_ANSWER_TOKENS}] and EXCERPT_ANSWER_TOKENS == 32


def test_malformed_evidence_entries_are_read_as_the_ids_they_name() -> None:
    assert evidence_ids(["D8:6; D9:17", "D", "D:11:26", "D1:3", "D1:3"]) == \
        ("D8:6", "D9:17", "D11:26", "D1:3")


def test_every_system_gets_the_protocols_answer_format(bench: Any) -> None:
    """The same instruction, the only one on the answer's form: at the end of the
    references' prompts (the excerpt systems keep their layout: the instruction, then the
    question), in place of the product's form sentence in ours'."""
    workbench, conversation = bench
    qa = conversation.qa[0]
    for name in ("simple-rag", "no-memory", "ours"):
        [system] = make_systems(workbench, [name])
        workbench.chat.calls.clear()
        system.answer(Query("q", locomo_context(conversation), qa.question, "2024-01-01"))
        last = str(workbench.chat.calls[-1][-1].content)
        assert "Answer the question in a few words" in last, name
        assert "starts with the answer itself" not in last, name
        if name == "ours":
            assert "(Answer the question in a few words, as the memories" in last
        else:
            assert last.endswith((qa.question, "Answer the question in a few words.)")), name
