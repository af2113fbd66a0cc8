"""Extraction over a window of turns (``Context.extraction_window``) with a SCRIPTED FAKE
chat model and the real embedded store: one call reads a window of a session's turns;
each kept memory is written with the turn that says it; a turn waits (pending, its
personality already observed) until its window is full, its session is finished or
``sync`` finishes it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from helpers import step_of
from test_agent_wiring import Script, ctx, make_agent

from graphs.assistant import Assistant
from memory_graph.schema import EdgeType, Fact, NodeLabel
from memory_graph.store import WriteBatch
from memory_work.model_outputs import FactMemory, PreferenceMemory, TurnMemories, VisualConcept
from memory_work.sync import sync
from memory_work.turn_memories import by_turn
from memory_work.turns import WorkTurn


def work_turn(turn_id: str, text: str, captions: list[str] | None = None) -> WorkTurn:
    return {"id": turn_id, "session_id": "s", "at": "2024-03-02T19:00:00+00:00",
            "text": text, "speaker": "", "image_ids": [f"img-{turn_id}-{i}" for i, _ in
                                                       enumerate(captions or [])],
            "captions": list(captions or [])}


def test_each_kept_memory_belongs_to_the_turn_that_says_it() -> None:
    turns = [work_turn("a", "I adopted a cat named Pixel.", ["a cat on a sofa"]),
             work_turn("b", "I love coffee. Pixel sleeps all day.", ["a mug of coffee"])]
    found = TurnMemories(
        facts=[FactMemory(statement="Maya adopted a cat named Pixel.", entities=["Pixel"]),
               FactMemory(statement="Maya has a dog named Rex.")],
        preferences=[PreferenceMemory(entity="coffee", likes=False),
                     PreferenceMemory(entity="coffee", likes=True)],
        visual=[VisualConcept(image=1, entity="Pixel", description="a cat on a sofa"),
                VisualConcept(image=2, entity="coffee", description="a mug of coffee")])
    owned, ungrounded = by_turn(found, turns, "Maya", "Persona")
    (first, a), (second, b) = owned
    assert (first["id"], second["id"]) == ("a", "b")
    assert [f.statement for f in a.facts] == ["Maya adopted a cat named Pixel."]
    assert b.facts == [] and a.preferences == []
    assert [(p.entity, p.likes) for p in b.preferences] == [("coffee", True)]  # the last
    assert [(v.image, v.entity) for v in a.visual] == [(1, "Pixel")]
    assert [(v.image, v.entity) for v in b.visual] == [(1, "coffee")]  # its own photo 1
    assert ungrounded == ["Maya has a dog named Rex."]


def test_a_window_of_three_turns_is_one_extraction_call(tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(extraction_window=3), agent=agent, provider=provider)
    said = [assistant.say(text, at=f"2024-03-02 19:0{minute}")["turn"]["id"] for minute, text
            in enumerate(["I adopted a cat named Pixel.", "I love coffee.",
                          "I teach chemistry in Porto."])]
    extractions = [call for call in model.calls if step_of(call) == "extract"]
    assert len(extractions) == 1
    window = str(extractions[0][-1].content)
    assert "Pixel" in window and "coffee" in window and "Porto" in window
    assert "3 chat messages" in str(extractions[0][0].content)
    memory = provider.resolve(ctx()).memory
    assert all(memory.personality_observed("t-maya", turn) for turn in said)
    assert assistant.status()["turns"] == {"done": 3}
    pixel = next(n for n in memory.nodes("t-maya", NodeLabel.FACT)
                 if isinstance(n, Fact) and "Pixel" in n.statement)
    sources = memory.store.edges("t-maya", [pixel.id], [EdgeType.FROM_TURN], "out")
    assert [e.target for e in sources] == [said[0]]
    assert [e.source_turns for e in memory.preferences("t-maya")] == [[said[1]]]


def test_turns_wait_for_their_window_until_the_session_is_finished(tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(extraction_window=3), agent=agent, provider=provider)
    assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assistant.say("I love coffee.", at="2024-03-02 19:02")
    memory = provider.resolve(ctx()).memory
    assert memory.personality_observed("t-maya", next(
        t.id for t in memory.turns("t-maya") if t.text == "I love coffee."))
    assert assistant.status()["turns"] == {"pending": 2}
    assert "extract" not in [step_of(call) for call in model.calls]
    assistant.say("Back from holidays!", at="2024-03-09 10:00")  # a new session
    provider.worker.drain("t-maya")  # the earlier turns' queued work may be the one to do it
    steps = [step_of(call) for call in model.calls]
    assert steps.count("extract") == 1  # the first session's two turns, in one call
    assert steps.index("extract") < steps.index("consolidate")
    turns = {t.text: t.memory_work for t in memory.turns("t-maya") if t.role == "user"}
    assert turns == {"I adopted a cat named Pixel.": "done", "I love coffee.": "done",
                     "Back from holidays!": "pending"}


def test_the_servers_queued_runs_leave_a_window_waiting_and_sync_finishes_it(
        tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    quiet = ctx(extraction_window=2, extract_memories=False)
    Assistant(quiet, agent=agent, provider=provider).say("I love coffee.",
                                                         at="2024-03-02 19:00")
    memory = provider.resolve(ctx()).memory
    turn = next(t for t in memory.turns("t-maya") if t.role == "user")
    memory.commit("t-maya", WriteBatch(nodes=[turn.model_copy(update={
        "memory_work": "pending"})]))
    res = provider.resolve(ctx(extraction_window=2))
    before_the_gap = datetime(2024, 3, 2, 19, 5, tzinfo=UTC)  # the session is not finished
    queued = sync(res, ctx(extraction_window=2), lambda _line: None, before_the_gap,
                  finish=False)
    assert queued["turns waiting"] == 1 and queued["turns done"] == 0
    assert "extract" not in [step_of(call) for call in model.calls]
    finished = sync(res, ctx(extraction_window=2), lambda _line: None, before_the_gap)
    assert finished["turns done"] == 1
    assert [step_of(call) for call in model.calls].count("extract") == 1



def test_on_the_worker_a_lone_turn_is_extracted_once_its_session_is_idle(
        tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    idle = ctx(extraction_window=2, session_gap_minutes=0.01, background_extraction=True)
    assistant = Assistant(idle, agent=agent, provider=provider)
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    assistant.say("I adopted a cat named Pixel.", at=now)
    provider.worker.drain("t-maya")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and assistant.status()["turns"] != {"done": 1}:
        time.sleep(0.2)
        provider.worker.drain("t-maya")
    assert assistant.status()["turns"] == {"done": 1}
    assert [step_of(call) for call in model.calls].count("extract") == 1


def test_finishing_a_history_extracts_the_last_window_before_consolidating(
        tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(extraction_window=3), agent=agent, provider=provider)
    assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assistant.say("I love coffee.", at="2024-03-02 19:02")
    assert assistant.finish_sessions()["errors"] == []
    steps = [step_of(call) for call in model.calls]
    assert steps.count("extract") == 1 and steps.index("extract") < steps.index("consolidate")
    assert assistant.status()["turns"] == {"done": 2}
    assert assistant.status()["sessions"] == {"done": 1}


def test_a_like_then_its_reversal_in_one_window_stay_in_the_order_said() -> None:
    turns = [work_turn("a", "I love coffee."), work_turn("b", "I quit coffee last month.")]
    found = TurnMemories(preferences=[PreferenceMemory(entity="coffee", likes=True),
                                      PreferenceMemory(entity="coffee", likes=False)])
    (_, a), (_, b) = by_turn(found, turns, "Maya", "Persona")[0]
    assert [(p.entity, p.likes) for p in a.preferences] == [("coffee", True)]
    assert [(p.entity, p.likes) for p in b.preferences] == [("coffee", False)]
    only_now = TurnMemories(preferences=[PreferenceMemory(entity="coffee", likes=False)])
    (_, a), (_, b) = by_turn(only_now, turns, "Maya", "Persona")[0]
    assert a.preferences == [] and [p.likes for p in b.preferences] == [False]


def test_a_failed_window_costs_one_attempt_per_pass_and_is_retried_once_its_session_ended(
        tmp_path: Path) -> None:
    script = Script(broken_steps={"extract": 2})  # the call and its repair
    agent, model, provider = make_agent(tmp_path, script)
    assistant = Assistant(ctx(extraction_window=3), agent=agent, provider=provider)
    assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assistant.say("I love coffee.", at="2024-03-02 19:02")
    assistant.finish_sessions()
    assert [step_of(call) for call in model.calls].count("extract") == 2  # once, repaired
    failures = assistant.status()["failures"]
    assert [f.get("attempts") for f in failures if "turn" in f] == [1, 1]
    res = provider.resolve(ctx(extraction_window=3))
    # The session is consolidated: its failed turns need no window to fill any more.
    counts = sync(res, ctx(extraction_window=3), lambda _line: None,
                  datetime(2024, 3, 2, 19, 5, tzinfo=UTC), finish=False)
    assert counts["turns done"] == 2 and counts["turns waiting"] == 0
    assert assistant.status()["turns"] == {"done": 2}
