"""The server's request guard (graphs.local_guard) and the auth handlers' refusals of
state writes (graphs.auth): the rules, case by case. The real server is driven in
tests/integration/test_served_hardening.py."""

from __future__ import annotations

import pytest
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from graphs.auth import command_refusal, input_refusal, is_state_update
from graphs.local_guard import build_app, refusal

LOCAL = {"host": "127.0.0.1:2024"}
TOKENS = {"t": "ana"}


@pytest.mark.parametrize("headers, client, status", [
    (LOCAL, "127.0.0.1", None),
    ({"host": "localhost:2024", "origin": "http://localhost:5173"}, "127.0.0.1", None),
    ({"host": "[::1]:2024", "origin": "http://[::1]:8080"}, "::1", None),
    (LOCAL, "10.0.0.5", 403),
    ({"host": "attacker.example:2024"}, "127.0.0.1", 403),
    ({"host": "127.0.0.1.attacker.example"}, "127.0.0.1", 403),
    ({}, "127.0.0.1", 403),
    ({**LOCAL, "origin": "http://attacker.example"}, "127.0.0.1", 403),
    ({**LOCAL, "origin": "null"}, "127.0.0.1", 403),
    ({**LOCAL, "origin": "http://localhost.attacker.example"}, "127.0.0.1", 403),
    ({**LOCAL, "sec-fetch-site": "cross-site"}, "127.0.0.1", 403),
    ({**LOCAL, "sec-fetch-site": "same-site"}, "127.0.0.1", None),
])
def test_the_unauthenticated_mode_answers_this_machine_only(
        headers: dict[str, str], client: str, status: int | None) -> None:
    found = refusal("GET", "/threads", headers, client, None)
    assert (found.status if found else None) == status


@pytest.mark.parametrize("content_type, status", [
    ("application/json", None), ("application/json; charset=utf-8", None),
    ("application/merge-patch+json", None), ("text/plain", 415), ("", 415),
    ("application/x-www-form-urlencoded", 415), ("multipart/form-data; boundary=x", 415),
])
@pytest.mark.parametrize("tokens", [None, TOKENS])
def test_bodies_are_json_in_both_modes(content_type: str, status: int | None,
                                       tokens: dict[str, str] | None) -> None:
    headers = {**LOCAL, "content-length": "2", "authorization": "Bearer t"}
    if content_type:
        headers["content-type"] = content_type
    found = refusal("POST", "/threads/search", headers, "127.0.0.1", tokens)
    assert (found.status if found else None) == status
    assert refusal("DELETE", "/threads/x", {**LOCAL, "content-length": "0"}, "127.0.0.1",
                   tokens) is None


def test_with_tokens_other_hosts_are_served_and_metrics_need_a_token() -> None:
    public = {"host": "memory.example.org", "origin": "https://app.example.org"}
    assert refusal("POST", "/threads/search", public, "203.0.113.9", TOKENS) is None
    assert refusal("GET", "/ok", public, "203.0.113.9", TOKENS) is None
    assert refusal("GET", "/info", public, "203.0.113.9", TOKENS) is None
    found = refusal("GET", "/metrics", public, "203.0.113.9", TOKENS)
    assert found is not None and found.status == 401
    assert refusal("GET", "/metrics", {**public, "authorization": "Bearer t"},
                   "203.0.113.9", TOKENS) is None


def test_the_guard_runs_before_the_routes() -> None:
    app = build_app(None)
    app.router.routes.append(Route("/x", lambda request: JSONResponse({"ok": True}),
                                   methods=["GET", "POST"]))
    client = TestClient(app, base_url="http://127.0.0.1:2024", client=("127.0.0.1", 5000))
    assert client.get("/x").status_code == 200
    assert client.get("/x", headers={"Origin": "http://attacker.example"}).status_code == 403
    assert client.post("/x", content=b"{}",
                       headers={"Content-Type": "text/plain"}).status_code == 415
    # The server's own in-process client (root_path /noauth, host "api") goes through.
    internal = TestClient(app, base_url="http://api", root_path="/noauth")
    assert internal.get("/x").status_code == 200


def test_state_writes_are_told_apart_from_metadata_patches_and_cancellations() -> None:
    assert is_state_update({"thread_id": "t"})
    assert not is_state_update({"thread_id": "t", "metadata": {"title": "x"}})
    assert not is_state_update({"thread_id": "t", "action": "interrupt",
                                "metadata": {"run_ids": []}})


def test_a_command_may_only_resume_and_a_run_needs_input() -> None:
    assert command_refusal(None) is None
    assert command_refusal({"resume": "yes"}) is None
    for command in ({"goto": "respond"}, {"update": {"turn": {}}}, "respond", ["x"]):
        assert command_refusal(command)
    assert input_refusal({"input": {"text": "hi"}}) is None
    assert input_refusal({"input": None, "command": {"resume": 1}}) is None
    assert input_refusal({"input": None})
    assert input_refusal({})


def test_an_api_key_header_is_a_token_as_a_bearer_header_is() -> None:
    """LangChain's Agent Chat UI sends the key it is given as ``X-Api-Key``."""
    from graphs.tokens import presented, user_of_token

    assert user_of_token(TOKENS, presented(None, "t")) == "ana"
    assert user_of_token(TOKENS, presented(None, "wrong")) is None
    assert user_of_token(TOKENS, presented("Bearer t", None)) == "ana"
    assert presented(None, None) is None
    public = {"host": "memory.example.org"}
    assert refusal("GET", "/metrics", {**public, "x-api-key": "t"}, "203.0.113.9",
                   TOKENS) is None
    assert refusal("GET", "/metrics", {**public, "x-api-key": "no"}, "203.0.113.9",
                   TOKENS) is not None
