"""Bad text is a typed error: a lone surrogate in a turn, a message, a reply, a caption or a
setting, an image string that no file system could name, a history file that is not UTF-8
or nests too deeply are each an ``InvalidInputError`` (exit code 2 on the command line; the
chat goes on with the next line), and the stored memory is left as it was. A base64 image
is data, never taken for a path."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder
from PIL import Image as PILImage
from PIL import PngImagePlugin
from test_agent_wiring import Script, ctx, make_agent

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from evals.history import load_history
from evals.locomo import load_locomo
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import ConfigurationError, InvalidInputError
from memory_graph.graph import MemoryGraph, TurnInput
from personavlm.repl import chat
from providers.images import load_image

LONE = "\ud800"
TURN = {"time": "2024-04-02 08:30", "user": "I repaired the garden fence.", "assistant": ""}
LATER = {**TURN, "time": "2024-04-02 08:40", "user": "Then I painted it green."}
PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


@pytest.mark.parametrize("bad", [
    TurnInput(text=f"Then I {LONE}painted it.", at="2024-04-02 08:40", session_id="s1"),
    TurnInput(text="Then I painted it.", at="2024-04-02 08:40", session_id="s1",
              speaker=LONE),
    TurnInput(text="Then I painted it.", at="2024-04-02 08:40", session_id="s1",
              image_captions=(f"the fence {LONE}",)),
], ids=["text", "speaker", "caption"])
def test_the_memory_graph_refuses_a_turn_that_is_not_valid_unicode(tmp_path: Path,
                                                                   bad: TurnInput) -> None:
    store = NetworkxStore(tmp_path / "store")
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("ines")
    memory.add_turns("ines", [TurnInput(text=TURN["user"], at=TURN["time"], session_id="s1")])
    with pytest.raises(InvalidInputError, match=r"U\+D800"):
        memory.add_turns("ines", [TurnInput(text="Later.", at="2024-04-02 08:35",
                                            session_id="s1"), bad])
    assert [t.text for t in memory.turns("ines")] == [TURN["user"]]
    store.close()


def turn_texts(provider: ResourceProvider, user_id: str) -> list[str]:
    memory = provider.resolve(ctx(user_id=user_id)).memory
    return [t.text for t in memory.turns(user_id)] if memory.has_user(user_id) else []


@pytest.mark.parametrize("call", [
    lambda a: a.say(f"My fence is {LONE}green.", at="2024-04-02 09:00"),
    lambda a: a.replay("My fence is green.", f"Lovely {LONE}", "2024-04-02 09:00"),
    lambda a: a.replay("My fence.", "Lovely.", "2024-04-02 09:00", reply_speaker=LONE),
    lambda a: a.say("My fence.", images=[{"path": str(PHOTO), "caption": f"it {LONE}"}],
                    at="2024-04-02 09:00"),
], ids=["message", "given reply", "reply speaker", "caption"])
def test_the_assistant_refuses_a_lone_surrogate_and_memory_stays_intact(
        tmp_path: Path, call: Callable[[Assistant], Any]) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    known = Assistant(ctx(), agent, provider)
    known.say(TURN["user"], at=TURN["time"])
    before = turn_texts(provider, "t-maya")
    with pytest.raises(InvalidInputError, match=r"U\+D800"):
        call(known)
    assert turn_texts(provider, "t-maya") == before
    with pytest.raises(InvalidInputError, match=r"U\+D800"):
        call(Assistant(ctx(user_id="t-new"), agent, provider))
    assert not provider.resolve(ctx(user_id="t-new")).memory.has_user("t-new")
    assert not any((tmp_path / "media").rglob("*.png"))
    provider.close()


@pytest.mark.parametrize("field", ["user_name", "assistant_name", "answer_format"])
def test_a_context_text_with_a_lone_surrogate_is_refused(field: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"{field} .*U\+D800"):
        Context(**{field: f"Ines{LONE}"})  # type: ignore[arg-type]


@pytest.fixture
def command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[tuple[Any, ResourceProvider]]:
    """The agent and provider of the command line's ``Assistant``, made over the scripted
    fake model, the hashing embedder and a store in ``tmp_path``."""
    agent, _, provider = make_agent(tmp_path, Script())
    monkeypatch.setattr("graphs.assistant.Assistant",
                        lambda context: Assistant(context, agent, provider))
    yield agent, provider
    provider.close()


def test_ask_with_a_lone_surrogate_exits_2_and_memory_stays_intact(
        command_line: tuple[Any, ResourceProvider],
        capsys: pytest.CaptureFixture[str]) -> None:
    from personavlm.cli import main

    agent, provider = command_line
    Assistant(ctx(user_id="ines"), agent, provider).say(TURN["user"], at=TURN["time"])
    before = turn_texts(provider, "ines")
    assert main(["ask", f"What did I {LONE}repair?", "--user", "ines"]) == 2
    assert "U+D800" in capsys.readouterr().err
    assert turn_texts(provider, "ines") == before


def base64_png_with_a_long_line() -> str:
    """Base64 of a real PNG, 256 to 4,095 characters long, whose text between two '/' is
    longer than a file name may be (a comment chunk of one letter encodes without '/')."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "q" * 300)
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), (90, 140, 30)).save(buffer, format="PNG", pnginfo=info)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    assert 256 <= len(encoded) < 4096 and max(map(len, encoded.split("/"))) > 255
    return encoded


def test_a_base64_image_is_data_and_never_a_path() -> None:
    encoded = base64_png_with_a_long_line()
    for allow_paths in (True, False):
        assert load_image(encoded, allow_paths=allow_paths).width == 2
        assert load_image({"base64": encoded}, allow_paths=allow_paths).width == 2


@pytest.mark.parametrize("image", [
    "q" * 300, Path("q" * 300), {"path": "q" * 300}, "x/" * 2100, f"{LONE}.png",
    {"base64": str(PHOTO)}, {"data": str(PHOTO)},
], ids=["long name", "long Path", "long path key", "long path", "lone surrogate",
        "a path as base64", "a path as data"])
def test_an_image_string_that_names_no_readable_file_is_a_typed_error(image: Any) -> None:
    """A name no file system can hold, and a path where base64 is documented."""
    with pytest.raises(InvalidInputError):
        load_image(image)


def test_a_missing_photo_is_named_in_the_error() -> None:
    with pytest.raises(InvalidInputError, match=r"'pixel\.jpg': no such file"):
        load_image("pixel.jpg")


def write_history(tmp_path: Path, data: Any) -> Path:
    """``data`` as a history file; ``json.dumps`` writes a lone surrogate as ``\\ud800``."""
    path = tmp_path / "history.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


NOT_UTF8 = b'{"sessions": [[{"time": "2024-04-02 08:30", "user": "caf\xe9"}]]}'
TOO_DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("content, problem", [(NOT_UTF8, "UTF-8"), (TOO_DEEP, "nest")],
                         ids=["not UTF-8", "nested 100,000 deep"])
@pytest.mark.parametrize("load", [load_history, load_locomo])
def test_an_unreadable_history_file_is_a_typed_error(tmp_path: Path, content: bytes,
                                                    problem: str,
                                                    load: Callable[[Path], Any]) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=problem):
        load(path)


@pytest.mark.parametrize("exchange", [
    {**LATER, "user": f"Then I {LONE}painted it."}, {**LATER, "assistant": f"Nice {LONE}"}],
    ids=["message", "reply"])
def test_a_lone_surrogate_in_a_history_is_refused_before_anything_is_replayed(
        tmp_path: Path, exchange: dict[str, str]) -> None:
    path = write_history(tmp_path, {"sessions": [[TURN, exchange]]})
    with pytest.raises(InvalidInputError, match=r"exchange 2: .*U\+D800"):
        load_history(path)


def test_a_lone_surrogate_in_a_locomo_history_is_refused(tmp_path: Path) -> None:
    path = write_history(tmp_path, [{"sample_id": "s1", "qa": [], "conversation": {
        "speaker_a": "Ines", "speaker_b": "Tom", "session_1_date_time": "2024-04-02 08:30",
        "session_1": [{"speaker": "Ines", "dia_id": "D1:1", "text": "Back from the hills."},
                      {"speaker": "Tom", "dia_id": "D1:2", "text": f"How {LONE} was it?"}]}}])
    with pytest.raises(InvalidInputError, match=r"exchange 1: .*U\+D800"):
        load_history(path)


@pytest.mark.parametrize("image", ["q" * 300, "photos/" + "q" * 300 + ".png", "x/" * 2100],
                         ids=["long name", "long part", "long path"])
def test_an_image_path_no_file_system_can_hold_is_refused_in_a_history(
        tmp_path: Path, image: str) -> None:
    path = write_history(tmp_path, {"sessions": [[{**TURN, "user": "<img> My fence."}]],
                                    "imgs": [image]})
    with pytest.raises(InvalidInputError, match="names no file"):
        load_history(path)


@pytest.mark.parametrize("content", [
    NOT_UTF8, TOO_DEEP, json.dumps({"sessions": [[TURN, {**LATER, "user": LONE}]]}).encode()],
    ids=["not UTF-8", "nested 100,000 deep", "lone surrogate"])
def test_ingest_of_bad_text_exits_2_and_stores_nothing(
        tmp_path: Path, command_line: tuple[Any, ResourceProvider], content: bytes,
        capsys: pytest.CaptureFixture[str]) -> None:
    from personavlm.cli import main

    path = tmp_path / "history.json"
    path.write_bytes(content)
    assert main(["ingest", str(path), "--no-extract", "--user", "ines"]) == 2
    assert "personavlm: error:" in capsys.readouterr().err
    assert not command_line[1].resolve(ctx(user_id="ines")).memory.has_user("ines")


def typed(*lines: str | Exception) -> Callable[[str], str]:
    """``input`` that reads ``lines`` in turn (an exception is raised, as a bad byte is)."""
    feed: Iterator[str | Exception] = iter(lines)

    def read(prompt: str = "") -> str:
        line = next(feed)
        if isinstance(line, Exception):
            raise line
        return line

    return read


def test_chat_prints_bad_text_and_goes_on_with_the_next_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(), agent=agent, provider=provider)
    monkeypatch.setattr("builtins.input", typed(
        "My fence is \udcff green.", UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad byte"),
        '/image "unclosed', TURN["user"], "/quit"))
    chat(assistant)
    out = capsys.readouterr().out
    assert out.count("error:") == 3
    assert "assistant> scripted reply" in out
    assert [t.text for t in assistant.turns() if t.role == "user"] == [TURN["user"]]
    provider.close()
