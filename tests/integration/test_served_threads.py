"""The server's memory-work threads and a failed run's input, against the real
``langgraph dev`` server with a FAKE OpenAI-compatible model (runs take seconds; issue 27,
holes 3, 4 and 5; docs/deployment.md's threat model cites these tests).

- Bob creates the threads on which alice's memory work would be queued, before she talks:
  her turns used to end in ``NotFoundError``, her memory work never queued; and he learns
  from a 409 whether carol ever talked to the server.
- Alice reads her threads and runs: the memory-work threads were among them, with the
  server's internal key in their metadata and their runs'.
- A failed run's input stays in the thread: a refused message became the text of the next
  photo turn, and one audio block made every later run of the thread fail."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import SyncLangGraphClient
from servers import client, langgraph_dev, refused, wait_for

from agent_runtime.internal_threads import KEY_FILE, MEMORY_WORK, memory_thread, server_owner
from evals.fake_chat_endpoint import fake_openai

pytestmark = pytest.mark.slow

USERS = ("alice", "bob", "carol", "dora")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
       b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("threads")
    with fake_openai() as model_url, langgraph_dev(
            root, {f"{user}-token": user for user in USERS},
            env={"PERSONAVLM_CHAT_PROVIDER": "openai", "PERSONAVLM_CHAT_MODEL": "fake",
                 "PERSONAVLM_CHAT_BASE_URL": model_url}) as (url, _):
        yield url, root



def mains_memory_thread(user: str, kind: str) -> str:
    """The id main gave a user's memory-work thread: anyone could compute it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"personavlm:{user}:{kind}"))


def talk(who: SyncLangGraphClient, text: str) -> dict[str, Any]:
    thread = who.threads.create()
    out = who.runs.wait(thread["thread_id"], "agent", input={"text": text},
                        context={"user_name": "Ann", "extraction_window": 1})
    assert isinstance(out, dict)
    return out


def work_done(who: SyncLangGraphClient) -> bool:
    status = who.runs.wait(None, "memory", input={"action": "status"})
    assert isinstance(status, dict)
    return bool(status["result"]["turns"] == {"done": 1})


def test_bob_cannot_break_alices_memory_work(served: tuple[str, Path]) -> None:
    url, _ = served
    alice, bob = client(url, "alice"), client(url, "bob")
    for kind in MEMORY_WORK:
        bob.threads.create(thread_id=mains_memory_thread("alice", kind))
    out = talk(alice, "I adopted an orange cat named Pixel.")
    assert out["reply"] and out["extraction"]["status"] == "queued"
    assert wait_for(lambda: work_done(alice))


def test_bob_cannot_tell_whether_carol_talked_to_the_server(served: tuple[str, Path]) -> None:
    url, _ = served
    talk(client(url, "carol"), "I teach chemistry in Porto.")
    bob = client(url, "bob")
    for kind in MEMORY_WORK:  # main answered 409 for a user who had talked, 200 otherwise
        assert bob.threads.create(thread_id=mains_memory_thread("carol", kind))


def test_memory_work_is_in_no_clients_lists_and_no_metadata_holds_the_key(
        served: tuple[str, Path]) -> None:
    url, root = served
    alice, bob = client(url, "alice"), client(url, "bob")
    out = talk(alice, "My sister lives in Oslo.")
    key = (root / "data" / KEY_FILE).read_text()
    assert key
    queue = [memory_thread(key, "alice", kind) for kind in MEMORY_WORK]
    seen: list[Any] = []
    for who in (alice, bob):
        threads = who.threads.search(limit=100)
        assert {(t["metadata"] or {}).get("graph_id") for t in threads} <= {"agent", None}
        assert not {t["thread_id"] for t in threads} & set(queue)
        assert who.threads.search(metadata={"graph_id": "memory"}) == []
        seen += threads
        seen += [who.runs.list(t["thread_id"]) for t in threads]
    assert out["turn"]["id"] in json.dumps(seen, default=str)  # alice's own thread is there
    for needle in (key, server_owner(key), "personavlm_internal"):
        assert needle not in json.dumps(seen, default=str)
    for thread_id in queue:  # bob, even given the ids
        refused(lambda: bob.threads.get(thread_id), 404)  # noqa: B023
        refused(lambda: bob.runs.list(thread_id), 404)  # noqa: B023


def test_forgetting_everything_deletes_the_memory_work_threads(
        served: tuple[str, Path]) -> None:
    url, root = served
    dora = client(url, "dora")
    talk(dora, "I run every morning.")
    assert wait_for(lambda: work_done(dora))
    key = (root / "data" / KEY_FILE).read_text()
    queue = [memory_thread(key, "dora", kind) for kind in MEMORY_WORK]
    # Asked by id (which only the server can derive), dora's own are found...
    assert all(dora.threads.get(thread_id) for thread_id in queue)
    forgot = dora.runs.wait(None, "memory", input={"action": "forget", "everything": True})
    assert isinstance(forgot, dict) and forgot["threads_deleted"] == 1  # her own thread
    for thread_id in queue:  # ...and go with everything
        refused(lambda: dora.threads.get(thread_id), 404)  # noqa: B023


def test_a_failed_runs_input_stays_out_of_the_thread(served: tuple[str, Path]) -> None:
    url, _ = served
    bob = client(url, "bob")
    thread_id = bob.threads.create()["thread_id"]
    quiet = {"extract_memories": False}

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        out = bob.runs.wait(thread_id, "agent", input=payload, context=quiet)
        assert isinstance(out, dict)
        return out

    with pytest.raises(Exception, match="20000"):
        run({"text": "refused " * 3_000})
    photo = run({"images": [{"base64": base64.b64encode(PNG).decode(), "caption": "a dot"}]})
    assert photo["turn"]["text"] == ""
    with pytest.raises(Exception, match="audio"):
        run({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "Hear this."}, {"type": "audio", "base64": "AAAA"}]}]})
    run({"text": "Plain text."})
    chat = run({"messages": [{"role": "user", "content": "A message."}]})
    assert [(m["type"], m["content"]) for m in chat["messages"]][::2] == [
        ("human", "[photo]"), ("human", "Plain text."), ("human", "A message.")]
    state = json.dumps(bob.threads.get_state(thread_id)["values"])
    assert "refused" not in state and "audio" not in state


def test_in_the_local_mode_memory_work_is_in_no_thread_list(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without tokens (loopback clients, the user named by the context) the memory-work
    threads were the context user's while the auth handlers knew the caller as "local":
    they were stamped as the caller's and filled the UI's thread list. They are the local
    caller's now, so the server owns them; the work still gets done."""
    from langgraph_sdk import get_sync_client

    root = tmp_path_factory.mktemp("local")
    with fake_openai() as model_url, langgraph_dev(
            root, env={"PERSONAVLM_CHAT_PROVIDER": "openai", "PERSONAVLM_CHAT_MODEL": "fake",
                       "PERSONAVLM_CHAT_BASE_URL": model_url}) as (url, _):
        local = get_sync_client(url=url)
        thread = local.threads.create()
        local.runs.wait(thread["thread_id"], "agent", input={"text": "My sister lives in Oslo."},
                        context={"user_id": "maya", "extraction_window": 1})

        def done() -> bool:
            status = local.runs.wait(None, "memory", input={"action": "status"},
                                     context={"user_id": "maya"})
            return isinstance(status, dict) and status["result"]["turns"] == {"done": 1}

        assert wait_for(done)
        listed = local.threads.search(limit=100)
        assert [t["thread_id"] for t in listed if t["thread_id"] != thread["thread_id"]
                and (t.get("metadata") or {}).get("graph_id") != "agent"] == []
        assert {(t.get("metadata") or {}).get("graph_id") for t in listed} <= {"agent", None}
