"""Progress names the stage: ``Assistant.say_streaming`` tells each step as it starts (a
SCRIPTED FAKE chat model, wiring only), in the order the graph runs them, and the
spinner shows the newest words."""

from __future__ import annotations

from pathlib import Path

from helpers import HashingEmbedder, ScriptedFakeChatModel

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from graphs import build_agent
from graphs.assistant import STAGES, Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from personavlm.waiting import Spinner


def test_each_stage_is_named_as_it_starts(tmp_path: Path) -> None:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=lambda _: "Hi."),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "db"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="maya", background_extraction=False, extract_memories=False)
    stages: list[str] = []
    with Assistant(context, build_agent(provider=provider), provider) as assistant:
        out = assistant.say_streaming("Hello there.", lambda _: None, on_stage=stages.append)
    provider.close()
    assert out["reply"] == "Hi."
    assert stages == [STAGES[n] for n in ("perceive", "extract_memory", "retrieve",
                                          "infer_personality", "respond")]


def test_the_spinner_shows_the_newest_stage() -> None:
    spinner = Spinner("reading the message")
    spinner.stage("searching memories")
    assert spinner.label == "searching memories"
