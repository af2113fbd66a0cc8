"""Served means untrusted, checked in-process: the served graph (a SCRIPTED FAKE chat model,
the real embedded store) takes the user from the authenticated caller and refuses a context
that names another user or a server resource before anything is stored or opened; images
from network clients are bytes only, within limits; the tokens file is validated. The same
routes against the real ``langgraph dev`` server are in tests/integration/test_served_auth.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from agent_runtime.serving import (
    SERVER_OWNED_FIELDS,
    UNAUTHENTICATED_LOCAL,
    AccessDeniedError,
    ServedCaller,
    ServerSettings,
    refusals,
)
from graphs import build_agent
from graphs.tokens import load_tokens, user_of_token
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import ConfigurationError, InvalidInputError, UnknownUserError
from memory_graph.graph import MemoryGraph
from providers.images import load_image

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


@dataclass
class Caller:
    """What the LangGraph server puts in ``configurable["langgraph_auth_user"]``."""
    identity: str
    permissions: list[str] = field(default_factory=list)
    is_authenticated: bool = True


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels (no pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def reply_only(messages: list[BaseMessage]) -> str:
    return "Noted." if "JSON" not in str(messages[0].content) else '{"action": "answer"}'


@pytest.fixture
def served(tmp_path: Path) -> Any:
    store = NetworkxStore(tmp_path / "store")
    resources = ResourceProvider(chat_model=ScriptedFakeChatModel(script=reply_only),
                                 embedder=HashingEmbedder(), store=store,
                                 media_dir=tmp_path / "media",
                                 policy=ServedCaller(ServerSettings()))
    agent = build_agent(provider=resources)
    yield agent, MemoryGraph(store, HashingEmbedder()), tmp_path
    resources.close()


def run(agent: Any, caller: Caller | None, text: str = "My bank PIN is 4417.",
        **context: Any) -> Any:
    configurable = {} if caller is None else {"langgraph_auth_user": caller}
    return asyncio.run(agent.ainvoke({"text": text, "at": "2024-05-01 10:00"},
                                     context=Context(background_extraction=False, **context),
                                     config={"configurable": configurable}))


def test_the_user_is_the_authenticated_caller(served: Any) -> None:
    agent, memory, _ = served
    out = run(agent, Caller("alice"))
    assert out["reply"] == "Noted."
    turns = memory.session_turns("alice", out["turn"]["session_id"])
    assert [t.text for t in turns] == ["My bank PIN is 4417.", "Noted."]
    with pytest.raises(UnknownUserError):
        memory.user(Context().user_id)


@pytest.mark.parametrize("context, reason", [
    ({"user_id": "alice"}, "authenticated as 'bob'.*cannot name user 'alice'"),
    ({"store_location": "{tmp}/elsewhere"}, "store_location is the server's to choose"),
    ({"chat_base_url": "http://127.0.0.1:9"}, "chat_base_url is the server's"),
    ({"chat_model": "/etc/passwd"}, "chat_model is the server's"),
    ({"store_backend": "falkordb"}, "store_backend is the server's"),
    ({"embedding_model": "/srv/model"}, "embedding_model is the server's"),
])
def test_a_context_that_overreaches_is_refused_and_nothing_is_stored(
        served: Any, context: dict[str, Any], reason: str) -> None:
    agent, memory, tmp_path = served
    context = {key: value.replace("{tmp}", str(tmp_path)) for key, value in context.items()}
    with pytest.raises(AccessDeniedError, match=reason):
        run(agent, Caller("bob"), **context)
    with pytest.raises(UnknownUserError):
        memory.user("bob")
    assert not (tmp_path / "elsewhere").exists()


def test_a_served_run_without_an_authenticated_caller_is_refused(served: Any) -> None:
    agent, _, _ = served
    with pytest.raises(AccessDeniedError, match="authenticated caller"):
        run(agent, None)
    with pytest.raises(AccessDeniedError, match="authenticated caller"):
        run(agent, Caller("bob", is_authenticated=False))


def test_unauthenticated_local_mode_takes_the_user_from_the_context(served: Any) -> None:
    agent, memory, _ = served
    run(agent, Caller("local", [UNAUTHENTICATED_LOCAL]), user_id="maya")
    assert memory.user("maya").id == "maya"
    with pytest.raises(AccessDeniedError, match="chat_model"):
        run(agent, Caller("local", [UNAUTHENTICATED_LOCAL]), user_id="maya",
            chat_model="/etc/passwd")


@pytest.mark.parametrize("image", [
    {"path": str(SAMPLE)}, str(SAMPLE), SAMPLE,
])
def test_a_served_image_given_as_a_server_path_is_refused(served: Any, image: Any) -> None:
    agent, memory, tmp_path = served
    with pytest.raises(InvalidInputError, match="file paths are only for in-process"):
        asyncio.run(agent.ainvoke(
            {"text": "look", "images": [image]}, context=Context(),
            config={"configurable": {"langgraph_auth_user": Caller("bob")}}))
    with pytest.raises(UnknownUserError):
        memory.user("bob")
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.png"))


def test_served_images_arrive_as_base64_or_data_urls(served: Any) -> None:
    agent, _, _ = served
    encoded = base64.b64encode(SAMPLE.read_bytes()).decode()
    for image in (encoded, f"data:image/png;base64,{encoded}", {"base64": encoded}):
        loaded = load_image(image, allow_paths=False)
        assert loaded.width > 0
    out = asyncio.run(agent.ainvoke(
        {"text": "my cat", "images": [{"base64": encoded, "caption": "a cat"}]},
        context=Context(background_extraction=False),
        config={"configurable": {"langgraph_auth_user": Caller("carol")}}))
    assert out["turn"]["captions"] == ["a cat"]


@pytest.mark.parametrize("width, height", [(50_000, 50_000), (7_000, 7_000)])
def test_a_decompression_bomb_is_a_typed_error(width: int, height: int) -> None:
    bomb = png_header(width, height)
    for source in (bomb, base64.b64encode(bomb).decode()):
        with pytest.raises(InvalidInputError, match="pixels"):
            load_image(source, allow_paths=False)


def test_refusals_name_every_overreaching_field() -> None:
    assert refusals({"user_id": "alice", "retrieval_k": 8, "store_location": ""}, "alice") == []
    assert refusals({"user_id": "default-user"}, "alice") == []
    reasons = refusals({"user_id": "bob", "chat_provider": "openai",
                        "chat_base_url": "http://evil"}, "alice")
    assert len(reasons) == 3
    assert refusals({"user_id": "bob"}, None) == []


def test_server_settings_come_from_the_environment() -> None:
    settings = ServerSettings.from_env({"PERSONAVLM_STORE_BACKEND": "falkordb",
                                        "PERSONAVLM_STORE_LOCATION": "redis://db:6379",
                                        "PERSONAVLM_MEDIA_DIR": "~/media"})
    applied = settings.apply(Context(store_location="ignored", chat_model="ignored"))
    assert (applied.store_backend, applied.store_location, applied.chat_model) == \
        ("falkordb", "redis://db:6379", "")
    assert settings.media_path == Path("~/media").expanduser()
    with pytest.raises(ConfigurationError, match="PERSONAVLM_STORE_BACKEND"):
        ServerSettings.from_env({"PERSONAVLM_STORE_BACKEND": "sqlite"})


def test_tokens_file_is_validated_and_tokens_compared_exactly(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps({"tok-a": "alice", "tok-b": "bob"}))
    tokens = load_tokens(path)
    assert user_of_token(tokens, "Bearer tok-a") == "alice"
    assert user_of_token(tokens, "bearer tok-b") == "bob"
    for header in (None, "", "tok-a", "Bearer ", "Bearer tok-", "Basic tok-a", "Bearer tok-ab"):
        assert user_of_token(tokens, header) is None
    for bad in ("[]", "{}", '{"t": ""}', "not json"):
        path.write_text(bad)
        with pytest.raises(ConfigurationError, match="PERSONAVLM_AUTH_TOKENS"):
            load_tokens(path)


def test_the_served_schema_offers_only_what_a_client_may_set(served: Any) -> None:
    """Studio's form and the server's schema come from the graph's context schema: the
    served one lacks the server-owned fields (a run that sends one is refused by the
    run-creation auth handler, tests/integration/test_served_hardening.py)."""
    agent, memory, _ = served
    offered = set(agent.get_context_jsonschema()["properties"])
    assert offered and not offered & set(SERVER_OWNED_FIELDS)
    local = build_agent(chat_model=ScriptedFakeChatModel(script=reply_only))
    assert set(SERVER_OWNED_FIELDS) <= set(local.get_context_jsonschema()["properties"])
    out = asyncio.run(agent.ainvoke(
        {"text": "Hello.", "at": "2024-05-01 10:00"},
        context={"background_extraction": False, "retrieval_k": 2},
        config={"configurable": {"langgraph_auth_user": Caller("carol")}}))
    assert out["reply"] == "Noted." and memory.user("carol").id == "carol"
