"""Attacks on the served agent through a thread's state and through a web browser, against
the real ``langgraph dev`` server (issue 27, holes 1 and 2; docs/deployment.md's threat
model cites these tests). No model runs: every attack is refused before the graph starts.

- A client shapes the agent's internal channels (the stored turn and the media keys of its
  photos) so that the reply node reads or deletes a server file of its choosing: by
  ``update_state``, by a run's ``Command`` (update, goto), by creating a thread with state
  and continuing it with a run without input.
- A web page uses the unauthenticated local server: a cross-origin request, a ``text/plain``
  body (no CORS preflight), a rebound host name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from servers import langgraph_dev, refused

pytestmark = pytest.mark.slow

#: ``PERSONAVLM_DATA/media/<user>/`` is three folders below the server's directory: a
#: 64-character key that climbs there names ``<directory>/<VICTIM>.png``.
VICTIM = "victim_" + "0" * 8
TRAVERSAL_KEY = "./" * 20 + "../../../" + VICTIM


def forged_turn() -> dict[str, Any]:
    assert len(TRAVERSAL_KEY) == 64
    return {"id": "forged", "session_id": "forged", "at": "2024-05-01T10:00:00",
            "text": "hello", "speaker": "Bob", "image_ids": ["forged"], "captions": [""],
            "media": [{"image_id": "forged", "sha256": TRAVERSAL_KEY, "suffix": ".png",
                       "mime": "image/png", "transient": True}],
            "new_session": False, "previous_session_id": None, "stored": False}



@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("hardening")
    (root / f"{VICTIM}.png").write_bytes(b"not the client's")
    with langgraph_dev(root, {"alice-token": "alice", "bob-token": "bob"}) as (url, _):
        yield url, root


def bob(url: str) -> SyncLangGraphClient:
    return get_sync_client(url=url, headers={"Authorization": "Bearer bob-token"})


def test_a_client_cannot_write_a_threads_state(served: tuple[str, Path]) -> None:
    url, root = served
    client = bob(url)
    thread = client.threads.create(graph_id="agent")
    error = refused(lambda: client.threads.update_state(
        thread["thread_id"], {"turn": forged_turn()}, as_node="infer_personality"), 403)
    assert "state is written by the agent's runs only" in error.response.text
    # The owner still changes the thread's metadata.
    patched = client.threads.update(thread["thread_id"], metadata={"title": "mine"})
    assert patched["metadata"]["title"] == "mine"
    assert patched["metadata"]["owner"] == "bob"
    assert (root / f"{VICTIM}.png").exists()


@pytest.mark.parametrize("stateless", [False, True])
def test_a_runs_command_cannot_write_state_or_jump_to_a_node(served: tuple[str, Path],
                                                             stateless: bool) -> None:
    url, root = served
    client = bob(url)
    thread_id = None if stateless else client.threads.create()["thread_id"]
    command = {"update": {"turn": forged_turn()}, "goto": "respond"}
    for call in (lambda: client.runs.wait(thread_id, "agent", command=command),
                 lambda: client.runs.create(thread_id, "agent", command=command),  # type: ignore[arg-type]
                 lambda: list(client.runs.stream(thread_id, "agent", command=command)),
                 lambda: client.runs.wait(thread_id, "agent", command={"goto": "respond"}),
                 lambda: client.runs.wait(thread_id, "agent",
                                          command={"update": {"turn": forged_turn()}})):
        error = refused(call, 403)
        assert "command may only resume" in error.response.text
    assert (root / f"{VICTIM}.png").exists()


def test_a_thread_created_with_state_cannot_be_continued(served: tuple[str, Path]) -> None:
    url, root = served
    client = bob(url)
    created = client.threads.create(graph_id="agent", supersteps=[{"updates": [
        {"values": {"turn": forged_turn()}, "as_node": "infer_personality"}]}])
    # The thread is made, its state is not written (the server answers 201 with why).
    assert "state is written by the agent's runs only" in str(created.get("detail")), created
    thread_id = str(created["detail"]).split()[1]
    assert client.threads.get_state(thread_id)["values"] in ({}, None, [])
    for call in (lambda: client.runs.wait(thread_id, "agent", input=None),
                 lambda: client.runs.create(thread_id, "agent")):
        error = refused(call, 403)
        assert "a run needs input" in error.response.text
    assert (root / f"{VICTIM}.png").exists()


def test_a_cron_without_input_is_refused(served: tuple[str, Path]) -> None:
    url, _ = served
    client = bob(url)
    thread_id = client.threads.create(graph_id="agent")["thread_id"]
    error = refused(lambda: client.crons.create_for_thread(thread_id, "agent",
                                                           schedule="0 3 1 1 *"), 403)
    assert "a run needs input" in error.response.text


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("local")
    with langgraph_dev(root, log_name="local.log") as (url, _):
        yield url


def test_a_web_page_cannot_use_the_unauthenticated_server(local: str) -> None:
    url = local
    port = url.rsplit(":", 1)[1]
    search = f"{url}/threads/search"
    # What a page of another site can send without a preflight: a text/plain body.
    plain = httpx.post(search, content=b"{}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415, plain.text
    no_type = httpx.post(search, content=b"{}")
    assert no_type.status_code == 415, no_type.text
    for headers in ({"Origin": "http://attacker.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"},
                    # DNS rebinding: the page's own name, now pointing at 127.0.0.1.
                    {"Host": f"attacker.example:{port}"}):
        for method, path in (("POST", "/threads/search"), ("GET", "/info"),
                             ("GET", "/metrics"), ("POST", "/store/namespaces")):
            response = httpx.request(method, url + path, json={}, headers=headers)
            assert response.status_code == 403, (headers, path, response.text)
    preflight = httpx.options(search, headers={"Origin": "http://attacker.example",
                                               "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    # Clients on this machine, and pages served from a loopback address, still work.
    assert get_sync_client(url=url).threads.search() == []
    same_machine = httpx.post(search, json={}, headers={"Origin": "http://127.0.0.1:3000",
                                                        "Sec-Fetch-Site": "same-site"})
    assert same_machine.status_code == 200, same_machine.text
    assert httpx.get(f"{url}/info", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_metrics_need_a_token_when_the_server_has_tokens(served: tuple[str, Path]) -> None:
    url, _ = served
    assert httpx.get(f"{url}/metrics").status_code == 401
    assert httpx.get(f"{url}/metrics",
                     headers={"Authorization": "Bearer bob-token"}).status_code == 200
    assert httpx.get(f"{url}/ok").status_code == 200
    assert httpx.get(f"{url}/info").status_code == 200
    plain = httpx.post(f"{url}/threads/search", content=b"{}",
                       headers={"Content-Type": "text/plain",
                                "Authorization": "Bearer bob-token"})
    assert plain.status_code == 415
