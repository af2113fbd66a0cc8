"""Forgetting through the Assistant (a SCRIPTED FAKE chat model that echoes the secret,
the real embedded store and media directory): the turn, the echoing reply and the photo
leave every file; the report counts them; an id that is not the user's turn or session is
a typed error that changes nothing, the user id included."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from graphs import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import UnknownMemoryError
from nodes.context import Context
from nodes.resources import ResourceProvider

SECRET = "4417"
PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


def echo(messages: list[BaseMessage]) -> str:
    if "JSON" in str(messages[0].content):
        return '{"action": "answer"}'
    said = str(messages[-1].content)
    return f"Noted, your PIN is {SECRET}." if SECRET in said else "Noted."


def files_mentioning(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def assistant(tmp_path: Path) -> Assistant:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=echo),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "db"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="maya", background_extraction=False, extract_memories=False)
    return Assistant(context, build_agent(provider=provider), provider)


def test_forgetting_a_turn_removes_it_its_reply_and_its_photo_from_every_file(
        assistant: Assistant, tmp_path: Path) -> None:
    assistant.say("I teach chemistry in Porto.", at="2024-05-01 10:00")
    photo = base64.b64encode(PHOTO.read_bytes()).decode()
    secret = assistant.say(f"My bank PIN is {SECRET}.", at="2024-05-01 10:01",
                           images=[{"base64": photo, "caption": "my card"}])
    assert files_mentioning(tmp_path, SECRET.encode())
    assert any((tmp_path / "media").rglob("*.png"))
    report = assistant.forget(turn_id=secret["turn"]["id"])
    assert (report.counts["turns"], report.counts["replies"], report.counts["images"],
            report.counts["image files"]) == (1, 1, 1, 1)
    assert files_mentioning(tmp_path, SECRET.encode()) == []
    assert not any((tmp_path / "media").rglob("*.png"))
    assert [t["text"] for t in assistant.turn_rows()] == ["I teach chemistry in Porto.",
                                                          "Noted."]


def test_forgetting_an_unknown_id_or_the_user_id_changes_nothing(assistant: Assistant) -> None:
    assistant.say("I teach chemistry in Porto.", at="2024-05-01 10:00")
    before = assistant.turn_rows()
    for turn_id in ("doesnotexist", "maya", before[0]["session_id"]):
        with pytest.raises(UnknownMemoryError, match="memories --user maya --ids"):
            assistant.forget(turn_id=turn_id)
    with pytest.raises(UnknownMemoryError):
        assistant.forget(session_id=before[0]["id"])
    assert assistant.turn_rows() == before
    assert assistant.resources.memory.user("maya").id == "maya"


def failing_reply(messages: list[BaseMessage]) -> str:
    if "JSON" in str(messages[0].content):
        return '{"action": "answer"}'
    if "explode" in str(messages[-1].content):
        raise RuntimeError("the model fell over")
    return "Noted."


def test_an_exchange_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=failing_reply),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "db"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="maya", background_extraction=False, extract_memories=False)
    assistant = Assistant(context, build_agent(provider=provider), provider)
    assistant.say("I teach chemistry in Porto.", at="2024-05-01 10:00")
    with pytest.raises(RuntimeError, match="fell over"):
        assistant.say(f"Please explode, my PIN is {SECRET}.", at="2024-05-01 10:01")
    assert [t["text"] for t in assistant.turn_rows()] == ["I teach chemistry in Porto.",
                                                          "Noted."]
    assert files_mentioning(tmp_path, SECRET.encode()) == []
    provider.close()


def test_an_exchange_a_killed_run_left_unanswered_is_removed_at_the_next_turn(
        assistant: Assistant) -> None:
    from memory_graph.graph import TurnInput

    memory = assistant.resources.memory
    memory.ensure_user("maya")
    memory.add_turns("maya", [TurnInput(text=f"My PIN is {SECRET}", at="2024-05-01 10:00",
                                        session_id="s-killed", answered=False)])
    assert [t.text for t in memory.unanswered_turns("maya")] == [f"My PIN is {SECRET}"]
    out = assistant.say("Hello again.", at="2024-05-01 10:30")
    assert any("got no reply and was removed whole" in e for e in out["errors"])
    assert [t["text"] for t in assistant.turn_rows()] == ["Hello again.", "Noted."]
    assert memory.unanswered_turns("maya") == []
