"""Bad input leftovers of ingestion: a malformed history is a typed error (exit code 2)
before anything is stored; replaying with extraction off makes no model call, and an
empty given reply stores no reply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from evals.history import load_history
from graphs import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import InvalidInputError
from personavlm.ingest import ingest

GOOD_TURN = {"time": "2024-05-01 10:00", "user": "I teach chemistry.", "assistant": ""}


@pytest.mark.parametrize("data, problem", [
    ({"sessions": "not a list"}, "sessions"),
    ({"sessions": [[{"user": "no time"}]]}, "time"),
    ({"sessions": [["not a dict"]]}, "sessions.0.0"),
    ({"sessions": [[{**GOOD_TURN, "time": "yesterday-ish"}]]}, "exchange 1"),
    ([{"conversation": "not a dict"}], "LoCoMo"),
    ({"no": "sessions"}, "neither"),
])
def test_a_malformed_history_is_a_typed_error(tmp_path: Path, data: Any,
                                              problem: str) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=problem):
        load_history(path)


def test_the_ingest_command_exits_2_and_stores_nothing(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from personavlm.cli import main

    path = tmp_path / "history.json"
    path.write_text(json.dumps({"sessions": [[GOOD_TURN, {"user": "no time"}]]}))
    code = main(["ingest", str(path), "--no-extract", "--user", "u",
                 "--location", str(tmp_path / "db")])
    assert code == 2
    assert "not a valid Persona-MME history" in capsys.readouterr().err
    store = NetworkxStore(tmp_path / "db")
    assert store.users() == []
    store.close()


def no_model(messages: list[BaseMessage]) -> str:
    raise AssertionError("replaying with extraction off must make no model call")


def test_replaying_without_extraction_makes_no_model_call(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"sessions": [[GOOD_TURN, {**GOOD_TURN, "time":
                                                          "2024-05-01 10:05",
                                                          "assistant": "Nice!"}],
                                             [{**GOOD_TURN, "time": "2024-06-01 09:00"}]]}))
    model = ScriptedFakeChatModel(script=no_model)
    provider = ResourceProvider(chat_model=model, embedder=HashingEmbedder(),
                                store=NetworkxStore(tmp_path / "db"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="u", extract_memories=False)
    with Assistant(context, build_agent(provider=provider), provider) as assistant:
        summary = ingest(assistant, path)
        assert model.calls == []
        assert [t.role for t in assistant.turns()] == ["user", "user", "assistant", "user"]
        assert summary["turns"] == 4
    provider.close()
