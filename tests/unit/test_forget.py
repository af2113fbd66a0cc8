"""Forgetting through the Assistant (a SCRIPTED FAKE chat model that echoes the secret,
the real embedded store and media directory): the turn, the echoing reply and the photo
leave every file; a later reply that quoted the secret is scrubbed, in every file and in
search; the report counts them; an id that is not the user's turn or session is a typed
error that changes nothing, the user id included; an exchange removed because its reply
never came scrubs nothing else."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from graphs import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import UnknownMemoryError

SECRET = "4417-kestrel"  # no timestamp, id or base64 text can hold it by chance
CODE = "ZEBRA-7391"
PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


def echo(messages: list[BaseMessage]) -> str:
    if "JSON" in str(messages[0].content):
        return '{"action": "answer"}'
    said = str(messages[-1].content)
    if "What is my gym locker code?" in said:
        return f"It is {CODE}."
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


def test_forgetting_a_turn_scrubs_a_later_reply_that_quoted_it(assistant: Assistant,
                                                               tmp_path: Path) -> None:
    told = assistant.say(f"My gym locker code is {CODE}.", at="2024-05-01 10:00")
    asked = assistant.say("What is my gym locker code?", at="2024-06-01 18:00")
    assert asked["reply"] == f"It is {CODE}."
    report = assistant.forget(turn_id=told["turn"]["id"])
    assert report.counts["scrubbed replies"] == 1
    assert files_mentioning(tmp_path, CODE.encode()) == []  # (its digits alone recur in timestamps)
    assert [t["text"] for t in assistant.turn_rows()] == ["What is my gym locker code?",
                                                          "It is [forgotten]."]
    found = assistant.resources.search.search("maya", f"gym locker code {CODE}", k=10)
    assert found and all("7391" not in hit.node.search_text() for hit in found)


def test_an_exchange_removed_for_want_of_a_reply_scrubs_nothing_else(
        assistant: Assistant) -> None:
    from memory_graph.graph import TurnInput

    assistant.say(f"My gym locker code is {CODE}.", at="2024-05-01 10:00")
    memory = assistant.resources.memory
    memory.add_turns("maya", [TurnInput(text=f"Again: my gym locker code is {CODE}.",
                                        at="2024-05-02 10:00", session_id="s-killed",
                                        answered=False)])
    assistant.say("Hello again.", at="2024-05-02 10:30")
    assert [t["text"] for t in assistant.turn_rows()][:2] == [
        f"My gym locker code is {CODE}.", "Noted."]


def test_forgetting_a_turn_empties_the_quarantine(tmp_path: Path) -> None:
    """A later record quoting the code was damaged and set aside by ``repair``: those
    bytes are in the user's quarantine folder, and a forget takes them too."""
    from memory_graph.graph import MemoryGraph, TurnInput

    def memory() -> MemoryGraph:
        return MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())

    first = memory()
    first.ensure_user("maya")
    told = first.add_turns("maya", [TurnInput(text=f"My gym locker code is {CODE}.",
                                              at="2024-05-01 10:00", session_id="s1")])[0]
    first.add_turns("maya", [TurnInput(text=f"Remember {CODE} for the pool.",
                                       at="2024-05-01 10:05", session_id="s1")])
    first.store.close()
    journal = next((tmp_path / "db").rglob("wal.jsonl"))
    data = journal.read_bytes()
    journal.write_bytes(data[:-40] + data[-40:].replace(b'"', b"'", 1))  # fails its CRC
    damaged = memory()
    assert isinstance(damaged.store, NetworkxStore)
    assert damaged.store.repair()[0].quarantined_records == 1
    assert files_mentioning(next((tmp_path / "db").rglob("quarantine")), CODE.encode())
    damaged.forget_turn("maya", told.id)
    assert files_mentioning(tmp_path / "db", CODE.encode()) == []
    assert not list((tmp_path / "db").rglob("quarantine"))


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
    assert any(e["kind"] == "unanswered" and "got no reply and was removed whole" in e["message"]
               for e in out["errors"])
    assert [t["text"] for t in assistant.turn_rows()] == ["Hello again.", "Noted."]
    assert memory.unanswered_turns("maya") == []


def test_a_forget_whose_rewrite_failed_is_finished_when_the_user_is_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forget is in the log (acknowledged) but the disk refused the rewrite that takes
    the text out of the files: the next open finishes it before serving the user."""
    from memory_graph.backends.journal import Journal
    from memory_graph.graph import MemoryGraph, TurnInput

    first = MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())
    first.ensure_user("maya")
    told = first.add_turns("maya", [TurnInput(text=f"My gym locker code is {CODE}.",
                                              at="2024-05-01 10:00", session_id="s1")])[0]
    first.add_turns("maya", [TurnInput(text="See you at the pool.", at="2024-05-01 10:05",
                                       session_id="s1")])

    def full_disk(self: Journal, user_id: str, rewritten: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(Journal, "compact", full_disk)
        with pytest.raises(OSError):
            first.forget_turn("maya", told.id)
    first.store.close()
    assert files_mentioning(tmp_path / "db", CODE.encode())
    again = MemoryGraph(NetworkxStore(tmp_path / "db"), HashingEmbedder())
    assert [t.text for t in again.turns("maya")] == ["See you at the pool."]
    assert files_mentioning(tmp_path / "db", CODE.encode()) == []
