"""Graph wiring with a SCRIPTED FAKE chat model (tests/helpers.py) and the real embedded
store: the flow, iterative retrieval with a time window, structured-output repair and
errors, background extraction, warming of the next reply prompt, preference contradiction,
personality EMA, bad input, and user isolation. Behaviour with the real model is tested in
test_real_model.py."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel, step_of
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import Field

from agent_runtime.resources import ResourceProvider
from evals.systems import Ours, Query, Workbench
from graphs import Context, build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import InvalidInputError, UnknownUserError
from memory_graph.schema import EdgeType, NodeLabel
from memory_graph.search import RECIPES, HybridSearch
from nodes.retrieve import LATER_ROUND_K

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
       b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


def memories_for(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {"facts": [], "preferences": [], "remember": [], "visual": [],
                             "entities": []}
    if "coffee" in text:
        likes = "can't stand" not in text
        found["preferences"].append({"entity": "coffee", "kind": "food", "likes": likes,
                                     "reason": "said so"})
    if "green tea" in text.lower():  # plus what a small model copies from its worked example
        found["preferences"] += [{"entity": "green tea", "kind": "food", "likes": True},
                                 {"entity": "jogging", "kind": "activity", "likes": False}]
        found["facts"].append({"statement": "Maya adopted a beagle named Max.",
                               "entities": ["Max"]})
    if "Pixel" in text:
        found["facts"].append({"statement": "Maya has a cat named Pixel.",
                               "entities": ["Pixel"]})
        found["visual"].append({"image": 1, "entity": "Pixel", "kind": "pet",
                                "description": "Pixel the orange cat"})
        found["entities"].append({"name": "Pixel", "kind": "pet"})
    return found


class Script:
    """Replies per step; ``decisions`` are consumed in order by the retrieval decisions."""

    def __init__(self, decisions: list[dict[str, Any]] | None = None,
                 broken_steps: dict[str, int] | None = None, question: str = "?") -> None:
        self.decisions = list(decisions or [])
        self.question = question
        self.broken = dict(broken_steps or {})

    def __call__(self, messages: list[BaseMessage]) -> str:
        step = step_of(messages)
        if self.broken.get(step, 0) > 0:
            self.broken[step] -= 1
            return "sorry, no JSON here"
        if step == "extract":
            text = next(str(m.content) for m in reversed(messages)
                        if "message: " in str(m.content)).split("message: ", 1)[1]
            return json.dumps(memories_for(text))
        if step == "consolidate":
            return json.dumps({"topics": [{"summary": "Maya introduced Pixel and her "
                                           "coffee habit.", "turns": [1], "entities":
                                           ["Pixel"]}],
                               "routines": [{"description": "drinks espresso every morning",
                                             "kind": "habit"}],
                               "profile": "Maya is a chemistry teacher with a cat, Pixel."})
        if step == "personality":  # the extraversion quote is not the user's: dropped
            return json.dumps({"signals": [
                {"trait": "openness", "level": "high", "quote": "I love coffee"},
                {"trait": "extraversion", "level": "high", "quote": "parties every night"}]})
        if step == "decide":
            asked = self.question in str(messages[-1].content)
            return json.dumps(self.decisions.pop(0) if self.decisions and asked else
                              {"keywords": ""})
        if step == "entity":
            return json.dumps({"same_as": None})
        if step == "reconcile":
            return json.dumps({"verdicts": []})
        return "scripted reply"


class PrefillingFakeChatModel(ScriptedFakeChatModel):
    """The SCRIPTED FAKE model with a ``prefill`` hook that records what it is asked to
    warm, as ``ChatLlamaCpp.prefill`` would evaluate it."""

    prefills: list[list[BaseMessage]] = Field(default_factory=list)

    def prefill(self, messages: list[BaseMessage]) -> str:
        self.prefills.append(list(messages))
        return "warmed"


def make_agent(tmp_path: Path, script: Script, windows: list[Any] | None = None,
               model: ScriptedFakeChatModel | None = None
               ) -> tuple[Any, ScriptedFakeChatModel, ResourceProvider]:
    """The agent over a fake model; ``windows`` collects the time window of every search."""
    model = model or ScriptedFakeChatModel(script=script)
    store = NetworkxStore(tmp_path / "store")
    resources = ResourceProvider(chat_model=model, embedder=HashingEmbedder(), store=store,
                                 media_dir=tmp_path / "media")
    agent = build_agent(provider=resources)
    # No cross-encoder in wiring tests: deterministic and fast.
    original = resources.resolve

    def resolve(context: Context) -> Any:
        res = original(context)
        search = HybridSearch(res.memory, RECIPES["hybrid_fast"])
        if windows is not None:
            plain = search.search

            def recording(*args: Any, **kwargs: Any) -> Any:
                windows.append(kwargs.get("window"))
                return plain(*args, **kwargs)

            search.search = recording  # type: ignore[method-assign]
        return type(res)(memory=res.memory, search=search, chat=res.chat, media=res.media,
                         worker=res.worker)

    resources.resolve = resolve  # type: ignore[method-assign]
    return agent, model, resources


def ctx(**overrides: Any) -> Context:
    # One turn per extraction call (windows: test_extraction_window). The model's
    # personality inference and the session consolidation, so that their wiring is tested
    # too (the defaults call no model for either:
    # test_marker_personality_moves_without_a_model_call,
    # test_by_default_a_finished_session_is_settled_without_a_model_call).
    base: dict[str, Any] = {"user_id": "t-maya", "user_name": "Maya",
                            "background_extraction": False, "personality_inference": "model",
                            "use_consolidation": True, "extraction_window": 1}
    base.update(overrides)
    return Context(**base)


def test_turn_flows_through_every_node_and_stores_memories(tmp_path: Path) -> None:
    agent, _model, provider = make_agent(tmp_path, Script())
    out = agent.invoke({"text": "This is Pixel, my cat. Do you know I love coffee?", "at":
                        "2024-03-02 19:05", "images": [base64.b64encode(PNG).decode()]},
                       context=ctx())
    assert out["reply"] == "scripted reply"
    assert out["turn"]["new_session"] and out["turn"]["image_ids"]
    assert out["extraction"]["turn"]["facts"] == 1
    assert out["cost"]["by_step"] == {"extract_memory": 1, "infer_personality": 1,
                                      "respond": 1}
    assert set(out["cost"]["ms_by_step"]) == set(out["cost"]["by_step"])
    assert sum(out["cost"]["ms_by_step"].values()) == pytest.approx(out["cost"]["model_ms"],
                                                                    abs=1.0)
    assert out["cost"]["model_calls"] == 3 and out["cost"]["prompt_tokens"] > 0
    assert out["personality"]["interactions"] == 1
    # "high" is 4; EMA at m=0 keeps half of the neutral 3: openness -> 3.5; neutral unchanged
    assert out["personality"]["scores"]["openness"] == pytest.approx(3.5)
    assert out["personality"]["scores"]["conscientiousness"] == pytest.approx(3.0)
    assert out["personality"]["scores"]["extraversion"] == pytest.approx(3.0)
    memory = provider.resolve(ctx()).memory
    facts = memory.store.find_nodes("t-maya", NodeLabel.FACT)
    assert {f.kind for f in facts} == {"fact", "visual"}  # type: ignore[attr-defined]
    depicts = memory.store.edges("t-maya", out["turn"]["image_ids"], [EdgeType.DEPICTS])
    assert len(depicts) == 1
    assert any(p.name == "Pixel" for p in memory.store.find_nodes(  # type: ignore[attr-defined]
        "t-maya", NodeLabel.ENTITY))
    assert list((tmp_path / "media").rglob("*.png"))


def test_a_thread_reused_for_a_second_turn_starts_that_turn_afresh(tmp_path: Path) -> None:
    """cost, errors and memories have reducers; perceive resets them, so a LangGraph
    thread (a checkpointer) does not carry one turn's figures into the next."""
    agent, _model, _provider = make_agent(tmp_path, Script())
    agent.checkpointer = InMemorySaver()
    thread = {"configurable": {"thread_id": "t-thread"}}
    first = agent.invoke({"text": "I love coffee. Did I say so?", "at": "2024-03-02 19:05"},
                         config=thread, context=ctx())
    second = agent.invoke({"text": "My cat is Pixel. Do you know?", "at": "2024-03-02 19:07"},
                          config=thread, context=ctx())
    assert first["cost"]["model_calls"] == second["cost"]["model_calls"] == 3
    assert first["cost"]["by_step"] == second["cost"]["by_step"]
    ids = [m["id"] for m in second["memories"]]
    assert len(ids) == len(set(ids))
    assert all(m["round"] == 1 for m in second["memories"])


def test_iterative_retrieval_applies_the_time_window_and_never_repeats(tmp_path: Path) -> None:
    script = Script(decisions=[
        {"keywords": "lake trip", "start": "2024-04-01",
         "end": "2024-04-30"},
        {"keywords": "lake holiday", "start": None, "end": None},
    ], question="Which trips")
    agent, model, provider = make_agent(tmp_path, script)
    c = ctx(extract_memories=False)
    agent.invoke({"text": "We had a lake trip in March.", "at": "2024-03-10 10:00"},
                 context=c)
    agent.invoke({"text": "Another lake trip, this time in April.", "at": "2024-04-12 10:00"},
                 context=c)
    agent.invoke({"text": "One more lake trip in late April.", "at": "2024-04-27 10:00"},
                 context=c)
    agent.invoke({"text": "A lake trip again in May.", "at": "2024-05-20 10:00"}, context=c)
    # k=1: round 1 can hold at most one April trip, so the windowed round 2 must find the
    # other one, and only April trips.
    out = agent.invoke({"text": "Which trips did I make in April?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False, retrieval_k=1,
                                   max_retrieval_rounds=3))
    assert out["retrieval"]["round"] == 3
    assert [q["keywords"] for q in out["retrieval"]["queries"]][1:] == ["lake trip",
                                                                        "lake holiday"]
    round2 = [m for m in out["memories"] if m["round"] == 2]
    assert round2, "the second round found nothing"
    for memory in round2:  # the window really filtered: only April items
        assert memory["date"] is not None and memory["date"].startswith("2024-04")
    ids = [m["id"] for m in out["memories"]]
    assert len(ids) == len(set(ids))
    for memory in out["memories"]:  # each says which search signals found it
        assert memory["found_by"] and set(memory["found_by"]) <= {"keyword", "vector",
                                                                 "neighbourhood"}
    # the evaluation logs that a window was searched, unless the filter is off
    script.decisions += [{"keywords": "lake trip", "start": "2024-04-01",
                          "end": "2024-04-30"}] * 2
    bench = Workbench(chat=model, memory=provider.resolve(c).memory, agent=agent,
                      window_tokens=8192)
    question = Query(item_id="q", context=ctx(retrieval_k=1, max_retrieval_rounds=3),
                     text="Which trips did I make in April?", at="2024-06-01 10:00")
    assert Ours(bench, "ours", {}).answer(question).time_window
    assert not Ours(bench, "ours-iterative-no-temporal", {"temporal_filter": False}
                    ).answer(question).time_window


def test_no_later_round_for_search_words_a_shown_memory_already_holds(tmp_path: Path
                                                                     ) -> None:
    agent, _, _provider = make_agent(tmp_path, Script(decisions=[
        {"keywords": "lake trips", "start": None, "end": None},
        {"keywords": "mountain hike", "start": None, "end": None},
    ], question="Which trips"))
    agent.invoke({"text": "We had a lake trip in March.", "at": "2024-03-10 10:00"},
                 context=ctx(extract_memories=False))
    out = agent.invoke({"text": "Which trips did I make?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False, max_retrieval_rounds=3))
    # "lake trips" stems to words the shown lake-trip memory holds: no second search.
    assert out["retrieval"]["round"] == 1
    assert [q["keywords"] for q in out["retrieval"]["queries"]] == ["Which trips did I make?"]


def test_reply_prompt_dates_memories_and_resolves_their_relative_dates(tmp_path: Path
                                                                      ) -> None:
    agent, model, _provider = make_agent(tmp_path, Script())
    c = ctx(extract_memories=False)
    agent.invoke({"text": "I lost my job yesterday, at the bakery.", "at": "2024-03-01 10:00"},
                 context=c)
    out = agent.invoke({"text": "When did I lose my job at the bakery?",
                        "at": "2024-06-01 10:00"}, context=ctx(update_memory=False))
    line = next(m["text"] for m in out["memories"] if "bakery" in m["text"])
    assert line == "[1 March 2024] Maya said: I lost my job yesterday (29 February 2024), " \
                   "at the bakery."
    reply_prompt = str(model.calls[-1][-1].content)
    assert line in reply_prompt


APRIL = {"keywords": "lake holiday", "start": "2024-04-01", "end": "2024-04-30"}


@pytest.mark.parametrize("temporal_filter", [True, False])
def test_temporal_filter_switch_decides_whether_the_window_reaches_the_store(
        tmp_path: Path, temporal_filter: bool) -> None:
    windows: list[Any] = []
    agent, _, _provider = make_agent(tmp_path, Script(decisions=[APRIL], question="Which trips"),
                          windows)
    agent.invoke({"text": "We had a lake trip in April.", "at": "2024-04-12 10:00"},
                 context=ctx(extract_memories=False))
    windows.clear()
    out = agent.invoke({"text": "Which trips did I make in April?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False, max_retrieval_rounds=2,
                                   temporal_filter=temporal_filter))
    assert out["retrieval"]["round"] == 2
    assert any(w is not None for w in windows) is temporal_filter


def test_a_message_that_asks_nothing_is_not_sent_for_search_words(tmp_path: Path) -> None:
    agent, model, _provider = make_agent(tmp_path, Script(decisions=[APRIL]))
    out = agent.invoke({"text": "We had a lake trip in April.", "at": "2024-04-12 10:00"},
                       context=ctx(extract_memories=False, max_retrieval_rounds=2))
    assert out["retrieval"]["round"] == 1
    assert not any(step_of(call) == "decide" for call in model.calls)
    assert "without repeating it" in str(model.calls[-1][-1].content)


def test_by_default_one_retrieval_round_asks_the_model_nothing_before_replying(
        tmp_path: Path) -> None:
    agent, model, _provider = make_agent(
        tmp_path, Script(decisions=[APRIL], question="Which trips"))
    agent.invoke({"text": "We had a lake trip in April.", "at": "2024-04-12 10:00"},
                 context=ctx(extract_memories=False))
    model.calls.clear()
    out = agent.invoke({"text": "Which trips did I make?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False))
    assert out["retrieval"]["round"] == 1 and out["memories"]
    assert "retrieve_decision" not in out["cost"]["by_step"]
    assert [step_of(m) for m in model.calls] == ["reply"]


def test_without_personality_the_reply_prompt_describes_none(tmp_path: Path) -> None:
    agent, model, _provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05"}, context=ctx())
    for use, expected in ((True, "high openness"), (False, "Not enough conversation yet")):
        model.calls.clear()
        agent.invoke({"text": "What should I do tonight?", "at": "2024-03-02 19:10"},
                     context=ctx(update_memory=False, use_personality=use))
        reply = [m for m in model.calls if step_of(m) == "reply"]
        assert len(reply) == 1 and expected in str(reply[0][0].content)


def test_marker_personality_moves_without_a_model_call(tmp_path: Path) -> None:
    agent, _model, _provider = make_agent(tmp_path, Script())
    markers = ctx(personality_inference="markers")
    out = agent.invoke({"text": "I'm so stressed and I couldn't sleep, I keep worrying.",
                        "at": "2024-03-02 19:05"}, context=markers)
    assert "infer_personality" not in out["cost"]["by_step"]
    assert out["personality"]["scores"]["neuroticism"] > 3.0
    assert out["personality"]["scores"]["openness"] == 3.0
    calm = agent.invoke({"text": "I had pasta for lunch.", "at": "2024-03-02 19:06"},
                        context=markers)
    assert calm["personality"]["scores"] == out["personality"]["scores"]  # no evidence


def test_repair_retry_then_success(tmp_path: Path) -> None:
    agent, _model, provider = make_agent(tmp_path, Script(broken_steps={"extract": 1}))
    out = agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05"}, context=ctx())
    assert out["errors"] == []
    assert out["cost"]["by_step"]["extract_memory:repair"] == 1
    memory = provider.resolve(ctx()).memory
    assert [e.type for e in memory.preferences("t-maya")] == [EdgeType.PREFERS]


def test_failed_structured_output_is_reported_and_the_turn_kept(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script(broken_steps={"extract": 2, "decide": 2}))
    out = agent.invoke({"text": "I love coffee. Did you know?", "at": "2024-03-02 19:05"},
                       context=ctx(max_retrieval_rounds=2))
    assert out["reply"] == "scripted reply"
    assert any(e["kind"] == "memory_work" and "extract_memory" in e["message"]
               and "TurnMemories" in e["message"] for e in out["errors"])
    assert any(e["kind"] == "model_output" and "retrieve_decision" in e["message"]
               for e in out["errors"])
    memory = provider.resolve(ctx()).memory
    texts = [t.text for t in memory.store.find_nodes("t-maya", NodeLabel.TURN)]  # type: ignore[attr-defined]
    assert "I love coffee. Did you know?" in texts


def test_contradicted_preference_is_closed_not_deleted(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05"}, context=ctx())
    agent.invoke({"text": "I can't stand coffee now.", "at": "2024-05-28 21:00"},
                 context=ctx())
    memory = provider.resolve(ctx()).memory
    current = memory.preferences("t-maya")
    assert [e.type for e in current] == [EdgeType.DISLIKES]
    history = memory.preferences("t-maya", history=True)
    closed = [e for e in history if e.type is EdgeType.PREFERS]
    assert closed and closed[0].valid_to is not None
    assert [e.type for e in memory.preferences("t-maya", as_of="2024-04-01")] == \
        [EdgeType.PREFERS]


def test_session_boundary_consolidates_the_previous_session(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "This is Pixel.", "at": "2024-03-02 19:05"}, context=ctx())
    same = agent.invoke({"text": "I love coffee, an espresso every morning.",
                         "at": "2024-03-02 19:30"}, context=ctx())
    assert not same["turn"]["new_session"]
    out = agent.invoke({"text": "Hello again.", "at": "2024-04-20 10:30"}, context=ctx())
    assert out["turn"]["new_session"]
    assert out["extraction"]["session"]["topics"] == 1
    memory = provider.resolve(ctx()).memory
    assert memory.user("t-maya").profile.startswith("Maya is a chemistry teacher")
    assert len(memory.store.find_nodes("t-maya", NodeLabel.EVENT)) == 1
    assert len(memory.store.find_nodes("t-maya", NodeLabel.ROUTINE)) == 1


@pytest.mark.parametrize("use_consolidation", [True, False])
def test_the_consolidation_ablation_searches_no_episode_or_routine(
        tmp_path: Path, use_consolidation: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[tuple[NodeLabel, ...]] = []
    plain = HybridSearch.search

    def recording(self: HybridSearch, *args: Any, **kwargs: Any) -> Any:
        searched.append(self.config.labels)
        return plain(self, *args, **kwargs)

    monkeypatch.setattr(HybridSearch, "search", recording)
    agent, _, _provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "We had a lake trip in April.", "at": "2024-04-12 10:00"},
                 context=ctx(extract_memories=False))
    searched.clear()
    agent.invoke({"text": "Which trips did I make?", "at": "2024-04-20 10:35"},
                 context=ctx(update_memory=False, use_consolidation=use_consolidation))
    assert searched and {NodeLabel.TURN, NodeLabel.FACT} <= set(searched[-1])
    assert ({NodeLabel.EVENT, NodeLabel.ROUTINE} <= set(searched[-1])) is use_consolidation
    assert not {NodeLabel.EVENT, NodeLabel.ROUTINE} & set(searched[-1]) or use_consolidation


def test_background_extraction_runs_after_the_reply(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    c = ctx(background_extraction=True)
    out = agent.invoke({"text": "This is Pixel, I love coffee.", "at": "2024-03-02 19:05"},
                       context=c)
    assert out["extraction"]["status"] == "background"
    assert "extract_memory" not in out["cost"]["by_step"]
    provider.worker.drain("t-maya")
    memory = provider.resolve(c).memory
    assert memory.store.find_nodes("t-maya", NodeLabel.FACT)
    assert memory.personality_history("t-maya")


def _as_pairs(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    return [(m.type, str(m.content)) for m in messages]


def test_the_next_reply_prompt_starts_with_what_was_warmed(tmp_path: Path) -> None:
    model = PrefillingFakeChatModel(script=Script())
    agent, _, provider = make_agent(tmp_path, Script(), model=model)
    worker = provider.worker
    c = ctx(background_extraction=True)
    agent.invoke({"text": "This is Pixel, I love coffee.", "at": "2024-03-02 19:05"},
                 context=c)
    worker.drain("t-maya")
    assert len(model.prefills) == 1
    warmed = _as_pairs(model.prefills[0])
    assert [kind for kind, _ in warmed] == ["system", "human", "ai"]  # this turn is recent
    agent.invoke({"text": "What is my cat called?", "at": "2024-03-02 19:10"}, context=c)
    worker.drain("t-maya")
    reply = next(call for call in model.calls if step_of(call) == "reply"
                 and "What is my cat called?" in str(call[-1].content))
    # Same session: the warmed prefix, personality after turn 1's update included, up to
    # the assistant's reply (a question's prompt leaves the assistant's replies out, so
    # the cache is reused up to there).
    assert _as_pairs(reply)[:2] == warmed[:2]
    assert "ai" not in [kind for kind, _ in _as_pairs(reply)]
    agent.invoke({"text": "Back from holidays, did you miss me?", "at": "2024-04-20 10:30"},
                 context=c)
    worker.drain("t-maya")
    first_of_session = next(call for call in model.calls if step_of(call) == "reply"
                            and "Back from holidays" in str(call[-1].content))
    # New session: no recent turns, and the warmed system prompt is still its prefix.
    assert _as_pairs(first_of_session)[:1] == _as_pairs(model.prefills[1])[:1]


def test_replayed_and_memoryless_turns_warm_nothing(tmp_path: Path) -> None:
    model = PrefillingFakeChatModel(script=Script())
    agent, _, provider = make_agent(tmp_path, Script(), model=model)
    c = ctx(background_extraction=True)
    agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05",
                  "given_reply": "Noted!"}, context=c)
    agent.invoke({"text": "What do I love?", "at": "2024-03-02 19:06"},
                 context=ctx(background_extraction=True, update_memory=False))
    provider.worker.drain("t-maya")
    assert model.prefills == []


def test_background_failure_is_reported_at_the_next_turn(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script(broken_steps={"extract": 2}))
    c = ctx(background_extraction=True)
    agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05"}, context=c)
    provider.worker.drain("t-maya")
    out = agent.invoke({"text": "Hi.", "at": "2024-03-02 19:06"}, context=c)
    assert any("TurnMemories" in e["message"] for e in out["errors"])


@pytest.mark.parametrize("payload, message", [
    ({"text": "   "}, "needs text"),
    ({"text": "x" * 20_001}, "limit"),
    ({"text": "hi", "images": [base64.b64encode(b"not an image").decode()]}, "decode"),
    ({"text": "hi", "images": ["https://example.com/cat.png"]}, "URL"),
    ({"text": "hi", "at": "the day after tomorrow"}, "timestamp"),
])
def test_bad_input_is_refused_and_memory_untouched(tmp_path: Path, payload: dict[str, Any],
                                                   message: str) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:05"}, context=ctx())
    memory = provider.resolve(ctx()).memory
    before = len(memory.store.find_nodes("t-maya", NodeLabel.TURN))
    with pytest.raises(InvalidInputError, match=message):
        agent.invoke(payload, context=ctx())
    assert len(memory.store.find_nodes("t-maya", NodeLabel.TURN)) == before


def test_unknown_user_asking_without_memory_updates_is_an_error(tmp_path: Path) -> None:
    agent, _, _provider = make_agent(tmp_path, Script())
    with pytest.raises(UnknownUserError):
        agent.invoke({"text": "What do I like?"}, context=ctx(user_id="t-nobody",
                                                              update_memory=False))


def test_users_never_see_each_other(tmp_path: Path) -> None:
    agent, _, _provider = make_agent(tmp_path, Script())
    agent.invoke({"text": "My secret code word is pineapple.", "at": "2024-03-02 19:05"},
                 context=ctx(extract_memories=False))
    agent.invoke({"text": "Hello, I'm Ben.", "at": "2024-03-02 19:05"},
                 context=ctx(user_id="t-ben", user_name="Ben", extract_memories=False))
    out = agent.invoke({"text": "What is my secret code word pineapple?"},
                       context=ctx(user_id="t-ben", user_name="Ben", update_memory=False))
    assert all("pineapple" not in m["text"] for m in out["memories"])
    mine = agent.invoke({"text": "What is my secret code word?"},
                        context=ctx(update_memory=False))
    assert any("pineapple" in m["text"] for m in mine["memories"])


def test_relative_media_dir_records_absolute_image_uris(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=Script()),
                                embedder=HashingEmbedder(),
                                store=NetworkxStore(tmp_path / "store"),
                                media_dir=Path("relative-media"))
    agent = build_agent(provider=provider)
    out = agent.invoke({"text": "My cat Pixel.", "at": "2024-03-02 19:05",
                        "images": [base64.b64encode(PNG).decode()]}, context=ctx())
    memory = provider.resolve(ctx()).memory
    [image] = memory.store.get_nodes("t-maya", out["turn"]["image_ids"])
    assert image.uri.startswith("file:///")  # type: ignore[attr-defined]
    assert Path(url2pathname(urlparse(image.uri).path)).is_file()  # type: ignore[attr-defined]


def test_memories_naming_nothing_in_the_message_are_dropped(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    out = agent.invoke({"text": "Green tea is my new thing.", "at": "2024-05-28 21:00"},
                       context=ctx())
    assert out["extraction"]["turn"]["ungrounded"] == ["Maya adopted a beagle named Max.",
                                                       "jogging"]
    memory = provider.resolve(ctx()).memory
    names = {p.name for p in memory.store.find_nodes(  # type: ignore[attr-defined]
        "t-maya", NodeLabel.ENTITY)}
    assert "green tea" in names and "jogging" not in names
    assert not memory.store.find_nodes("t-maya", NodeLabel.FACT)


def test_listed_memories_name_preferences_and_honour_as_of(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(), agent=agent, provider=provider)
    assistant.say("I love coffee.", at="2024-03-02 19:05")
    assistant.say("I can't stand coffee now.", at="2024-05-28 21:00")
    now = [r["text"] for r in assistant.memories() if r["kind"] == "preference"]
    assert now == ["dislikes coffee: said so"]
    then = [r["text"] for r in assistant.memories(as_of="2024-04-01")
            if r["kind"] == "preference"]
    assert then == ["likes coffee (until 2024-05-28): said so"]


class SeeingFakeChatModel(ScriptedFakeChatModel):
    """The SCRIPTED FAKE model declaring vision, so the agent sends it the turn's photos."""

    supports_vision: bool = True


@pytest.mark.parametrize("update_memory", [True, False])
def test_photos_reach_the_reply_from_the_media_store(tmp_path: Path,
                                                     update_memory: bool) -> None:
    """After perceive the photo travels by media id: the reply gets its bytes from the
    media store (the retrieval decision reads its caption only). A photo of a turn that is
    not stored leaves no file."""
    model = SeeingFakeChatModel(script=Script())
    agent, model, _provider = make_agent(tmp_path, Script(), model=model)
    agent.invoke({"text": "Hi!", "at": "2024-03-01 09:00"}, context=ctx())
    model.calls.clear()
    out = agent.invoke({"text": "Look at Pixel!", "at": "2024-03-02 19:05",
                        "images": [{"base64": base64.b64encode(PNG).decode(),
                                    "caption": "an orange cat"}]},
                       context=ctx(update_memory=update_memory))
    [ref] = out["turn"]["media"]
    assert ref["image_id"] == out["turn"]["image_ids"][0] and ref["mime"] == "image/png"
    sent = [block for call in model.calls if step_of(call) in ("decide", "reply")
            for block in call[-1].content if isinstance(block, dict)
            and block.get("type") == "image"]
    assert len(sent) == 1
    assert {hashlib.sha256(base64.b64decode(block["base64"])).hexdigest()
            for block in sent} == {ref["sha256"]}
    assert bool(list((tmp_path / "media").rglob("*.png"))) is update_memory


def test_a_later_round_adds_at_most_three_memories(tmp_path: Path) -> None:
    """Round 1 brings ``retrieval_k`` memories; the round run on the model's search words
    adds at most ``LATER_ROUND_K``, so the reply prompt stays within its budget."""
    agent, _, _provider = make_agent(tmp_path, Script(
        decisions=[{"keywords": "lake holiday"}], question="Which trips"))
    for day in range(1, 13):
        agent.invoke({"text": f"Lake trip number {day} with Ana.",
                      "at": f"2024-04-{day:02d} 10:00"}, context=ctx(extract_memories=False))
    out = agent.invoke({"text": "Which trips did I make?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False, retrieval_k=5,
                                   max_retrieval_rounds=2))
    rounds = [m["round"] for m in out["memories"]]
    assert out["retrieval"]["round"] == 2
    assert rounds.count(1) == 5 and rounds.count(2) == LATER_ROUND_K == 3


def test_a_window_the_message_does_not_name_is_ignored(tmp_path: Path) -> None:
    """A small model dates every search; "Which trips did I make?" names no time, so the
    April window it gives is not applied (and adds no round when the words are shown)."""
    windows: list[Any] = []
    agent, _model, _provider = make_agent(tmp_path, Script(decisions=[
        {"keywords": "lake trip", "start": "2024-04-01", "end": "2024-04-30"}],
        question="Which trips"), windows)
    agent.invoke({"text": "We had a lake trip in April.", "at": "2024-04-12 10:00"},
                 context=ctx(extract_memories=False))
    windows.clear()
    out = agent.invoke({"text": "Which trips did I make?", "at": "2024-06-01 10:00"},
                       context=ctx(update_memory=False, max_retrieval_rounds=2))
    assert out["retrieval"]["round"] == 1
    assert all(w is None for w in windows)


def test_only_the_reply_reaches_the_messages_stream(tmp_path: Path) -> None:
    agent, _, _ = make_agent(tmp_path, Script(decisions=[{"keywords": "cat name"}],
                                              question="cat"))
    chunks = list(agent.stream({"text": "What do I feed my cat?", "at": "2024-03-02 19:05"},
                               context=ctx(), stream_mode="messages"))
    replies = [(m, meta) for m, meta in chunks if isinstance(m, AIMessage | AIMessageChunk)]
    assert replies
    assert {metadata["langgraph_node"] for _, metadata in replies} == {"respond"}
    assert "".join(str(m.content) for m, _ in replies) == "scripted reply"  # once
    assert all("keywords" not in str(message.content) for message, _ in chunks)


def test_a_thread_speaks_the_messages_channel(tmp_path: Path) -> None:
    """Studio's chat and any client of {"messages": [...]}: the last user message is the
    turn (an image block is its photo), the reply is appended, and a text turn on the same
    thread joins the same conversation."""
    agent, _, provider = make_agent(tmp_path, Script())
    agent.checkpointer = InMemorySaver()
    thread = {"configurable": {"thread_id": "t-chat"}}
    photo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    first = agent.invoke({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "This is Pixel, my cat."},
        {"type": "image_url", "image_url": {"url": photo}}]}]}, config=thread, context=ctx())
    assert first["turn"]["text"] == "This is Pixel, my cat."
    assert len(first["turn"]["image_ids"]) == 1
    second = agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:07"},
                          config=thread, context=ctx())
    third = agent.invoke({"messages": [{"role": "user", "content": "What is my cat called?"}]},
                         config=thread, context=ctx())
    roles = [m.type for m in third["messages"]]
    assert roles == ["human", "ai", "human", "ai", "human", "ai"]
    assert [m.content for m in third["messages"]][2] == "I love coffee."
    assert third["turn"]["text"] == "What is my cat called?"
    assert second["reply"] == third["messages"][3].content
    memory = provider.resolve(ctx()).memory
    assert sorted(t.text for t in memory.turns("t-maya") if t.role == "user") == [
        "I love coffee.", "This is Pixel, my cat.", "What is my cat called?"]


def test_a_threads_messages_are_the_recent_turns_of_its_reply_prompt(tmp_path: Path) -> None:
    """Two threads of one user in the same session: each reply prompt quotes its own
    thread's conversation as the recent turns, not the other thread's turns (which the
    session in the store has too)."""
    agent, model, _ = make_agent(tmp_path, Script())
    agent.checkpointer = InMemorySaver()
    one, two = ({"configurable": {"thread_id": t}} for t in ("t-one", "t-two"))
    agent.invoke({"messages": [{"role": "user", "content": "My sister lives in Oslo."}]},
                 config=one, context=ctx())
    agent.invoke({"messages": [{"role": "user", "content": "I play the cello."}]},
                 config=two, context=ctx())
    model.calls.clear()
    agent.invoke({"messages": [{"role": "user", "content": "Any concert tips?"}]},
                 config=two, context=ctx(extract_memories=False))
    # (a statement's prompt keeps them: test_a_chat_reply_sees_the_assistants_last_reply)
    reply_prompt = next(c for c in model.calls if step_of(c) == "reply")
    recent = [str(m.content) for m in reply_prompt[1:-1]]
    assert recent == ["I play the cello."]  # a question's prompt leaves out the replies


def test_a_chat_reply_sees_the_assistants_last_reply(tmp_path: Path) -> None:
    """A statement's reply prompt keeps the session's replies (so it does not repeat
    itself); a question's leaves them out (they are no evidence of what the user said)."""
    agent, model, _ = make_agent(tmp_path, Script())
    agent.invoke({"text": "My sister lives in Oslo.", "at": "2024-03-02 19:05"}, context=ctx())
    for text, kinds in (("I play the cello.", ["human", "ai"]),
                        ("What do I play?", ["human", "human"])):
        model.calls.clear()
        agent.invoke({"text": text, "at": "2024-03-02 19:06"},
                     context=ctx(update_memory=False))
        reply_prompt = next(c for c in model.calls if step_of(c) == "reply")
        assert [kind for kind, _ in _as_pairs(reply_prompt)][1:3] == kinds
