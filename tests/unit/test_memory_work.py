"""Durable memory work with a SCRIPTED FAKE chat model and the real embedded store: each
stored user turn and session records its memory-work state; work left pending by a
killed process is resumed at the user's next run; failures are recorded, retried a
bounded number of times and reported by ``status``; ``sync`` runs everything to
completion, saying what it does without the user's text (the server logs it); a user's
last session is consolidated after an idle time."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from helpers import step_of
from test_agent_wiring import PNG, Script, ctx, make_agent

from agent_runtime.background import BackgroundWorker
from agent_runtime.serving import TrustedCaller
from graphs.assistant import Assistant
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import EdgeType, NodeLabel
from memory_graph.store import WriteBatch
from memory_work.outstanding import MAX_ATTEMPTS
from memory_work.pipeline import WORK_LEASE, claim_owner, ended_here, this_host


def facts(provider: Any, user: str) -> list[str]:
    memory = provider.resolve(ctx()).memory
    return [n.statement for n in memory.nodes(user, NodeLabel.FACT)]


def pending_turn(provider: Any, turn_id: str, text: str) -> MemoryGraph:
    """A user turn stored with its memory work pending, as a killed process leaves it."""
    memory: MemoryGraph = provider.resolve(ctx()).memory
    memory.ensure_user("t-maya", "Maya")
    memory.add_turns("t-maya", [TurnInput(text=text, at="2024-03-02 19:00",
                                          session_id="s-old", turn_id=turn_id,
                                          memory_work="pending")])
    return memory


def test_work_a_killed_process_left_pending_is_resumed_at_the_next_run(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    memory = pending_turn(provider, "killed", "I adopted a cat named Pixel.")
    out = agent.invoke({"text": "Hello!", "at": "2024-03-02 19:05"},
                       context=ctx(background_extraction=True))
    assert out["extraction"]["resumed"] == 1
    provider.worker.drain("t-maya")
    turns = {t.id: t for t in memory.turns("t-maya")}
    assert turns["killed"].memory_work == "done"
    assert turns[out["turn"]["id"]].memory_work == "done"
    assert any("Pixel" in f for f in facts(provider, "t-maya"))


def test_failures_are_recorded_retried_a_bounded_number_of_times_and_synced(
        tmp_path: Path) -> None:
    script = Script(broken_steps={"extract": 2 * (MAX_ATTEMPTS + 1)})
    agent, _, provider = make_agent(tmp_path, script)
    assistant = Assistant(ctx(), agent=agent, provider=provider)
    out = assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assert out["errors"], "the broken extraction is reported in the turn"
    report = assistant.status()
    assert report["turns"] == {"failed": 1}
    assert report["failures"][0]["attempts"] == 1 and report["failures"][0]["error"]
    for _ in range(MAX_ATTEMPTS):
        assistant.sync(progress=lambda line: None)
    assert assistant.status()["failures"][0]["attempts"] == MAX_ATTEMPTS
    assert assistant.status()["outstanding"]["turns"] == 0, "retries are bounded"
    script.broken.clear()
    memory = provider.resolve(ctx()).memory
    turn = next(t for t in memory.turns("t-maya") if t.role == "user")
    memory.commit("t-maya", WriteBatch(nodes=[turn.model_copy(update={"memory_work":
                                                                      "pending"})]))
    said: list[str] = []  # the server logs these lines: no user text in them
    counts = assistant.sync(progress=said.append)
    assert counts["turns done"] == 1
    assert assistant.status()["turns"] == {"done": 1}
    assert said[0] == "1/1: turn of 2024-03-02 19:00"
    assert not any("Pixel" in line for line in said)


def test_sync_consolidates_a_users_last_session_once_it_is_idle(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(), agent=agent, provider=provider)
    assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assert assistant.status()["sessions"] == {"pending": 1}
    counts = assistant.sync(progress=lambda line: None)
    assert counts["sessions done"] == 1
    assert assistant.status()["sessions"] == {"done": 1}


def test_the_last_session_is_consolidated_after_an_idle_time(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    idle = ctx(session_gap_minutes=0.01, background_extraction=True)
    assistant = Assistant(idle, agent=agent, provider=provider)
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    assistant.say("I adopted a cat named Pixel.", at=now)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and assistant.status()["sessions"] != {"done": 1}:
        time.sleep(0.2)
        provider.worker.drain("t-maya")
    assert assistant.status()["sessions"] == {"done": 1}


def test_personality_is_part_of_a_turns_durable_work_and_observed_once(tmp_path: Path
                                                                      ) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    memory = pending_turn(provider, "killed", "I love coffee.")
    assistant = Assistant(ctx(background_extraction=True), agent=agent, provider=provider)
    assert assistant.sync(progress=lambda line: None)["turns done"] == 1
    assert memory.personality_observed("t-maya", "killed")
    observed = len(memory.personality_history("t-maya"))
    turn = next(t for t in memory.turns("t-maya") if t.id == "killed")
    memory.commit("t-maya", WriteBatch(nodes=[turn.model_copy(update={"memory_work":
                                                                      "pending"})]))
    model.calls.clear()
    assistant.sync(progress=lambda line: None)
    assert len(memory.personality_history("t-maya")) == observed
    assert "personality" not in [step_of(call) for call in model.calls]


class QueuingCaller(TrustedCaller):
    """The served policy's scheduling (memory work goes to the server's run queue), with
    the context as given: the agent's nodes, without a server."""

    queues_memory_work = True


def test_served_memory_work_never_runs_on_the_in_process_worker(tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    provider.policy = QueuingCaller()
    out = agent.invoke({"text": "I love coffee.", "at": "2024-03-02 19:00"},
                       context=ctx(background_extraction=True))
    assert out["extraction"]["status"] == "queued"
    assert provider.worker.pending("t-maya") == 0
    assert not provider.worker.scheduled("t-maya")
    assert [step_of(call) for call in model.calls] == ["reply"]
    memory = provider.resolve(ctx()).memory
    assert [t.memory_work for t in memory.turns("t-maya") if t.role == "user"] == ["pending"]


def test_a_resumed_photo_turn_links_its_visual_concept_to_its_photo(tmp_path: Path) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    out = agent.invoke({"text": "This is Pixel, my cat.", "at": "2024-03-02 19:00",
                        "images": [base64.b64encode(PNG).decode()]},
                       context=ctx(extract_memories=False))
    memory = provider.resolve(ctx()).memory
    turn = next(t for t in memory.turns("t-maya") if t.id == out["turn"]["id"])
    memory.commit("t-maya", WriteBatch(nodes=[turn.model_copy(update={"memory_work":
                                                                      "pending"})]))
    assistant = Assistant(ctx(), agent=agent, provider=provider)
    assert assistant.sync(progress=lambda line: None)["turns done"] == 1
    depicts = memory.store.edges("t-maya", out["turn"]["image_ids"], [EdgeType.DEPICTS])
    assert len(depicts) == 1


def test_work_another_process_claimed_is_left_to_it_until_its_lease_runs_out(
        tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    memory = pending_turn(provider, "claimed", "I adopted a cat named Pixel.")
    assert memory.claim_work("t-maya", "claimed", "another-server:7", WORK_LEASE)
    assistant = Assistant(ctx(background_extraction=True), agent=agent, provider=provider)
    assert [r["by"] for r in assistant.status()["running"]] == ["another-server:7"]
    counts = assistant.sync(progress=lambda line: None)
    # The turn, and its finished session, whose consolidation waits for the turn's memories.
    assert counts["claimed elsewhere"] == 2 and counts["turns done"] == 0
    assert "consolidate" not in [step_of(call) for call in model.calls]
    assert "extract" not in [step_of(call) for call in model.calls]
    turn = next(t for t in memory.turns("t-maya") if t.id == "claimed")
    assert turn.memory_work == "pending"
    # That server died: once its lease has run out, the work is taken over and done.
    memory.commit("t-maya", WriteBatch(nodes=[turn.model_copy(update={
        "work_claim_until": datetime.now(UTC) - timedelta(minutes=1)})]))
    assert assistant.status()["running"] == []
    assert assistant.sync(progress=lambda line: None)["turns done"] == 1
    assert any("Pixel" in f for f in facts(provider, "t-maya"))


def test_a_claim_of_a_process_that_ended_on_this_host_is_taken_over_at_once(
        tmp_path: Path) -> None:
    """A server killed mid-work and restarted: its claims need not wait out their lease."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert ended_here(f"{this_host()}:{ended}")
    assert not ended_here(f"{socket.gethostname()}/another-container:{ended}")
    assert not ended_here(claim_owner()), "this process is alive"
    assert not ended_here(f"another-host:{ended}"), "another host's processes are unknown"
    agent, _, provider = make_agent(tmp_path, Script())
    memory = pending_turn(provider, "killed", "I adopted a cat named Pixel.")
    assert memory.claim_work("t-maya", "killed", f"{this_host()}:{ended}",
                             WORK_LEASE)
    assistant = Assistant(ctx(background_extraction=True), agent=agent, provider=provider)
    assert assistant.sync(progress=lambda line: None)["turns done"] == 1


def test_outstanding_work_runs_in_the_order_it_happened(tmp_path: Path) -> None:
    """A session is consolidated after its own turns and before the turns that came after
    it, by ``sync`` as by a new turn's work."""
    agent, _, provider = make_agent(tmp_path, Script())
    memory = pending_turn(provider, "early", "I adopted a cat named Pixel.")
    memory.add_turns("t-maya", [TurnInput(text="I love coffee.", at="2024-03-09 08:00",
                                          session_id="s-new", turn_id="late",
                                          memory_work="pending")])
    assistant = Assistant(ctx(background_extraction=True), agent=agent, provider=provider)
    said: list[str] = []
    assistant.sync(progress=said.append)
    assert [line.split(": ")[1].split(" of ")[0] for line in said] == [
        "turn", "session", "turn", "session"]


def test_two_threads_of_one_process_are_two_claim_owners() -> None:
    owners: list[str] = []
    thread = threading.Thread(target=lambda: owners.append(claim_owner()))
    thread.start()
    thread.join()
    assert owners[0] != claim_owner()
    assert not ended_here(owners[0]), "its process is alive"


class LosingWorker(BackgroundWorker):
    """A worker whose queued jobs are lost, as with a process killed before they ran."""

    def submit(self, user_id: str, label: str, job: Callable[[], object],
               key: str = "") -> None:
        pass


def test_a_session_mode_turn_is_observed_by_its_durable_work(tmp_path: Path) -> None:
    """With session extraction, a turn's work is its personality observation: stored
    pending, so a lost job is redone by sync."""
    agent, _, provider = make_agent(tmp_path, Script())
    provider.worker = LosingWorker()
    assistant = Assistant(ctx(extraction_mode="session", background_extraction=True),
                          agent=agent, provider=provider)
    out = assistant.say("I love coffee.", at="2024-03-02 19:00")
    memory = provider.resolve(ctx()).memory
    assert not memory.personality_observed("t-maya", out["turn"]["id"])
    assert assistant.status()["outstanding"]["turns"] == 1
    assistant.sync(progress=lambda line: None)
    assert memory.personality_observed("t-maya", out["turn"]["id"])


def test_a_failed_personality_observation_is_reported_and_fails_no_extraction(
        tmp_path: Path) -> None:
    agent, model, provider = make_agent(tmp_path, Script(broken_steps={"personality": 2}))
    assistant = Assistant(ctx(personality_inference="model"), agent=agent, provider=provider)
    out = assistant.say("I love coffee.", at="2024-03-02 19:00")
    assert any("personality is unchanged" in e["message"] for e in out["errors"])
    assert assistant.status()["turns"] == {"done": 1}
    model.calls.clear()
    assistant.sync(progress=lambda line: None)
    assert "extract" not in [step_of(call) for call in model.calls]


def test_by_default_a_finished_session_is_settled_without_a_model_call(tmp_path: Path
                                                                       ) -> None:
    agent, model, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(use_consolidation=False), agent=agent, provider=provider)
    assistant.say("I adopted a cat named Pixel.", at="2024-03-02 19:00")
    assistant.say("Back from holidays!", at="2024-03-09 10:00")  # a new session
    assert "consolidate" not in [step_of(call) for call in model.calls]
    memory = provider.resolve(ctx()).memory
    first = memory.sessions("t-maya")[0]
    assert first.consolidation == "done" and "Pixel" in first.summary
    assert memory.nodes("t-maya", NodeLabel.EVENT) == []
    assert assistant.status()["sessions"] == {"done": 1, "pending": 1}
