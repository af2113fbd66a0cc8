"""Forgetting reaches every copy on the served agent: the real ``langgraph dev`` server with
a FAKE OpenAI-compatible model (runs take about a second; issue 27, hole 6;
docs/deployment.md's threat model cites these tests). Each user has their own test, so a
forget in one cannot reach another's threads.

- alice: a reply that repeated her locker code reached a thread of the same session (as a
  recent turn, with the reply's id, not her turn's), and a later reply quoted the code;
  after the forget both stayed: the thread's checkpoint files and the stored, searchable
  reply held the code.
- bob: the turn he forgets is in the oldest checkpoints of a thread with more than 1,000:
  only the newest 1,000 were read.
- carol: the server logged the first 60 characters of every turn at INFO.
- dora: deleting a turn through the ``/store`` API left its photo's file.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import SyncLangGraphClient
from servers import client, langgraph_dev, refused, wait_for

from evals.fake_chat_endpoint import REPLY, fake_openai

pytestmark = pytest.mark.slow

USERS = ("alice", "bob", "carol", "dora")
CODE = "ZEBRA-7391"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
       b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
#: bm25: retrieval finds a memory only by a shared word, so what a thread holds is known.
KEYWORDS = {"search_recipe": "bm25", "extract_memories": False}


def reply(said: str) -> str:
    """The fake model's replies: it answers the locker question and repeats the code."""
    if "What is my gym locker code?" in said:
        return f"It is {CODE}."
    if f"locker code is {CODE}" in said:
        return f"Noted: your gym locker code is {CODE}."
    return REPLY


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("forgetting")
    with fake_openai(reply) as model_url, langgraph_dev(
            root, {f"{user}-token": user for user in USERS},
            env={"PERSONAVLM_CHAT_PROVIDER": "openai", "PERSONAVLM_CHAT_MODEL": "fake",
                 "PERSONAVLM_CHAT_BASE_URL": model_url}) as (url, _):
        yield url, root



def files_mentioning(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def run(who: SyncLangGraphClient, thread_id: str, payload: dict[str, Any],
        **context: Any) -> dict[str, Any]:
    out = who.runs.wait(thread_id, "agent", input=payload, context={**KEYWORDS, **context})
    assert isinstance(out, dict)
    return out


def forget(who: SyncLangGraphClient, turn_id: str) -> dict[str, Any]:
    out = who.runs.wait(None, "memory", input={"action": "forget", "turn_id": turn_id})
    assert isinstance(out, dict)
    return out



def test_forgetting_reaches_other_threads_and_later_replies_that_quote_it(
        served: tuple[str, Path]) -> None:
    url, root = served
    alice = client(url, "alice")
    told_in = alice.threads.create()["thread_id"]
    told = run(alice, told_in, {"text": f"My gym locker code is {CODE}.",
                                "at": "2024-05-01 10:00"})
    assert CODE in told["reply"]
    # The same session, a new thread: its last turn (the reply, with its own id) is the
    # thread's background; "What else" shares no word with anything stored.
    same_session = alice.threads.create()["thread_id"]
    held = run(alice, same_session, {"text": "What else?", "at": "2024-05-01 10:05"},
               recent_turns=1)
    assert told["turn"]["id"] not in json.dumps(held) and CODE in json.dumps(
        alice.threads.get_state(same_session)["values"])
    asked_in = alice.threads.create()["thread_id"]
    asked = run(alice, asked_in, {"text": "What is my gym locker code?",
                                  "at": "2024-06-01 18:00"})
    assert asked["reply"] == f"It is {CODE}."
    other = alice.threads.create()["thread_id"]
    run(alice, other, {"text": "I teach chemistry in Porto.", "at": "2024-06-02 09:00"})

    forgot = forget(alice, told["turn"]["id"])
    for thread_id in (told_in, same_session, asked_in):
        refused(lambda: alice.threads.get(thread_id), 404)  # noqa: B023
    assert alice.threads.get(other)
    assert forgot["threads_deleted"] == 3 and forgot["result"]["scrubbed replies"] == 1
    found = alice.store.search_items(("alice",), query=f"gym locker code {CODE}", limit=20)
    assert found["items"] and all("7391" not in json.dumps(item["value"])
                                  for item in found["items"])
    assert "It is [forgotten]." in json.dumps(found["items"])
    # The whole code: its digits alone also turn up inside checkpoint version numbers.
    assert files_mentioning(root, CODE.encode()) == []


def test_forgetting_reads_every_checkpoint_of_a_long_thread(served: tuple[str, Path]) -> None:
    url, _ = served
    bob = client(url, "bob")
    thread_id = bob.threads.create()["thread_id"]
    first = run(bob, thread_id, {"text": "Hello there."})
    for number in range(130):  # 8 checkpoints each; none stored, none finds the first turn
        run(bob, thread_id, {"text": f"Item {number}."}, update_memory=False)
    history = bob.threads.get_history(thread_id, limit=1000)
    assert len(history) == 1000 and first["turn"]["id"] not in json.dumps(history)
    assert forget(bob, first["turn"]["id"])["threads_deleted"] == 1
    refused(lambda: bob.threads.get(thread_id), 404)


def test_the_server_log_holds_no_user_text(served: tuple[str, Path]) -> None:
    url, root = served
    carol = client(url, "carol")
    thread_id = carol.threads.create()["thread_id"]
    run(carol, thread_id, {"text": "My passport number is QX-88231."}, extract_memories=True,
        extraction_window=1)  # the turn's work is queued after its own reply

    seen: list[Any] = []

    def done() -> bool:
        status = carol.runs.wait(None, "memory", input={"action": "status"})
        assert isinstance(status, dict)
        seen.append(status["result"])
        logged = ": turn of " in (root / "server.log").read_text(errors="replace")
        return bool(status["result"]["turns"] == {"done": 1}) and logged

    # The queued memory work ran and its step reached the log (the line may reach the
    # file after the store has recorded the work done).
    assert wait_for(done), seen[-1]
    lines = (root / "server.log").read_text(errors="replace").splitlines()
    # Whole words: a log timestamp's fraction (".882315") holds the digits too.
    leaks = [line for line in lines if re.search(r"\b(?:passport|88231)\b", line)]
    assert leaks == []


def test_a_store_delete_of_a_turn_deletes_its_photo_file(served: tuple[str, Path]) -> None:
    url, root = served
    dora = client(url, "dora")
    thread_id = dora.threads.create()["thread_id"]
    out = run(dora, thread_id, {"text": "My new locker.", "images": [
        {"base64": base64.b64encode(PNG).decode(), "caption": "a locker"}]})
    photos = list((root / "data").rglob("*.png"))
    assert len(photos) == 1
    dora.store.delete_item(("dora", "turns"), out["turn"]["id"])
    assert dora.store.get_item(("dora", "turns"), out["turn"]["id"]) is None
    assert not photos[0].exists()
