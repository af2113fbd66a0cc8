"""``personavlm chat`` with a SCRIPTED FAKE chat model: the reply is printed with its
timing, a photo without a caption on a model without vision asks for one (which is
stored), pending memory work is announced, and the exit waits for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_agent_wiring import Script, ctx, make_agent

from graphs.assistant import Assistant
from personavlm.repl import chat

PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


def test_chat_asks_for_a_caption_the_model_cannot_see_and_prints_the_reply(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    agent, _, provider = make_agent(tmp_path, Script())
    assistant = Assistant(ctx(background_extraction=True), agent=agent, provider=provider)
    lines: Iterator[str] = iter([f"/image {PHOTO}", "my orange cat on the sofa",
                                 "This is Pixel!", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    chat(assistant)
    captured = capsys.readouterr()
    assert "the model cannot see photos" in captured.out
    assert "assistant> scripted reply" in captured.out
    assert "memory job(s) pending" in captured.out
    assert "to the first token" in captured.err
    turn = next(t for t in assistant.turns() if t.role == "user")
    assert turn.image_captions == ["my orange cat on the sofa"]
    assert provider.worker.pending("t-maya") == 0  # the exit waited for the memory work
