"""The ``memory`` graph on the real ``langgraph dev`` server (tokens for alice and bob, the
offline model): alice's status, her forgetting of a turn that told a secret (the turn, its
reply and the thread whose checkpoints held it go; another thread stays), bob unable to
forget her turn, and forget-everything deleting all her threads. After the server stops,
neither its storage nor the memory store holds the secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from servers import free_port, langgraph_dev, wait_for

pytestmark = pytest.mark.slow

SECRET = "pin-4417-secret"


def files_mentioning(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


TOKENS = {"alice-token": "alice", "bob-token": "bob"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with langgraph_dev(tmp_path, TOKENS) as (url, _):
        yield url, tmp_path


def test_forgetting_on_the_server_removes_the_turn_its_reply_and_its_thread(
        served: tuple[str, Path]) -> None:
    url, root = served
    alice = get_sync_client(url=url, headers={"Authorization": "Bearer alice-token"})
    bob = get_sync_client(url=url, headers={"Authorization": "Bearer bob-token"})
    quiet = {"user_name": "Alice", "extract_memories": False, "max_reply_tokens": 24}
    # The other thread comes first: a later one could retrieve the secret into its state
    # (and would then be deleted with it, rightly).
    other_thread = alice.threads.create()
    alice.runs.wait(other_thread["thread_id"], "agent", input={
        "text": "I teach chemistry in Porto.", "at": "2024-05-01 09:00"}, context=quiet)
    secret_thread = alice.threads.create()
    told = alice.runs.wait(secret_thread["thread_id"], "agent", input={
        "text": f"My locker code is {SECRET}, please repeat it back.",
        "at": "2024-05-02 10:00"}, context=quiet)
    assert isinstance(told, dict)
    status = alice.runs.wait(None, "memory", input={"action": "status"})
    assert isinstance(status, dict) and status["result"]["turns"] == {"none": 2}

    with pytest.raises(Exception, match=r"unknown user .bob."):  # his memory, not hers
        bob.runs.wait(None, "memory", input={"action": "forget",
                                             "turn_id": told["turn"]["id"]})
    forgot = alice.runs.wait(None, "memory", input={"action": "forget",
                                                    "turn_id": told["turn"]["id"]})
    assert isinstance(forgot, dict)
    assert forgot["result"]["turns"] == 1 and forgot["result"]["replies"] == 1
    assert forgot["threads_deleted"] == 1
    with pytest.raises(httpx.HTTPStatusError):
        alice.threads.get(secret_thread["thread_id"])
    assert alice.threads.get(other_thread["thread_id"])
    assert files_mentioning(root / "data", SECRET.encode()) == []

    everything = alice.runs.wait(None, "memory", input={"action": "forget",
                                                        "everything": True})
    assert isinstance(everything, dict) and everything["threads_deleted"] == 1
    assert alice.threads.search() == []


#: One turn per extraction call: each turn's work is queued after its own reply.
TALK = {"user_name": "Alice", "max_reply_tokens": 16, "extraction_window": 1}
PIXEL = {"text": "I adopted an orange cat named Pixel.", "at": "2024-05-01 10:00"}


def as_alice(url: str) -> SyncLangGraphClient:
    return get_sync_client(url=url, headers={"Authorization": "Bearer alice-token"})


def memory_status(client: SyncLangGraphClient) -> dict[str, Any]:
    out = client.runs.wait(None, "memory", input={"action": "status"})
    assert isinstance(out, dict)
    return dict(out["result"])


def test_memory_work_is_queued_on_the_server_and_survives_a_kill(tmp_path: Path) -> None:
    port = free_port()
    with langgraph_dev(tmp_path, TOKENS, port=port) as (url, server):
        alice = as_alice(url)
        thread = alice.threads.create()
        alice.runs.wait(thread["thread_id"], "agent", input=PIXEL, context=TALK)
        server.kill()  # before the queued memory run (2 s later) could finish
        server.wait()
    with langgraph_dev(tmp_path, TOKENS, "server2.log", port=port) as (url, _):
        alice = as_alice(url)

        def turns() -> dict[str, int]:
            return dict(memory_status(alice)["turns"])
        # Recorded as pending (or already redone, if the run queue survived the kill). The
        # thread need not have survived: the dev server keeps its threads in memory.
        assert sum(turns().values()) == 1 and "failed" not in turns()
        thread = alice.threads.create()
        alice.runs.wait(thread["thread_id"], "agent", input={
            "text": "I teach chemistry in Porto.", "at": "2024-05-01 10:05"}, context=TALK)
        assert wait_for(lambda: turns() == {"done": 2}, 240), turns()


@pytest.mark.parametrize("kind", ["turn", "session"])
def test_memory_work_killed_while_it_runs_is_done_after_a_restart(tmp_path: Path,
                                                                  kind: str) -> None:
    """The server is killed while its run queue does a turn's work (extraction and
    personality) or a session's consolidation, as its log says the work has begun (by the
    turn's or session's time, never its text); after a restart the killed process's claim
    is taken over at once and the work is done."""
    talk = {**TALK, "use_consolidation": True}  # a consolidation call to be killed in
    port = free_port()
    log = tmp_path / "server.log"

    def begun() -> bool:
        return f": {kind} of " in log.read_text("utf-8", errors="replace")

    with langgraph_dev(tmp_path, TOKENS, port=port) as (url, server):
        alice = as_alice(url)
        thread = alice.threads.create()
        # Said in 2024, the session has long been idle: the run queued after the reply does
        # the turn's work, then the session's.
        alice.runs.wait(thread["thread_id"], "agent", input=PIXEL, context=talk)
        assert wait_for(begun, 300)
        server.kill()
        server.wait()
    with langgraph_dev(tmp_path, TOKENS, "server2.log", port=port) as (url, _):
        alice = as_alice(url)
        # The client's sync, or a queued run that survived the kill, does the work.
        alice.runs.wait(None, "memory", input={"action": "sync"}, context=talk)

        def done() -> bool:
            now = memory_status(alice)
            return (set(now["turns"]) == {"done"} and now["running"] == []
                    and (kind == "turn" or now["sessions"].get("done", 0) >= 1))
        assert wait_for(done, 300), memory_status(alice)


def test_nothing_of_a_forgotten_turn_stays_in_the_servers_storage(tmp_path: Path) -> None:
    with langgraph_dev(tmp_path, TOKENS) as (url, _):
        alice = get_sync_client(url=url, headers={"Authorization": "Bearer alice-token"})
        thread = alice.threads.create()
        told = alice.runs.wait(thread["thread_id"], "agent", input={
            "text": f"My locker code is {SECRET}.", "at": "2024-05-01 10:00"},
            context={"extract_memories": False, "max_reply_tokens": 16})
        assert isinstance(told, dict)
        alice.runs.wait(None, "memory", input={"action": "forget", "everything": True})
    assert files_mentioning(tmp_path, SECRET.encode()) == []
