"""``call_structured`` repair rules, with a SCRIPTED FAKE chat model: a truncated output
(a generation loop) is not echoed back, the repair samples at a higher temperature, and a
text that repeats itself is refused like any invalid output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agent_runtime.cost import CostMeter
from agent_runtime.structured import REPAIR_TEMPERATURE, StructuredOutputError, call_structured
from memory_work.model_outputs import SessionConsolidation

GOOD = json.dumps({"topics": [], "routines": [], "profile": "Ana is a nurse. She has a dog."})
LOOP = json.dumps({"topics": [], "routines": [],
                   "profile": "Ana is a nurse. She has a dog. Ana is a nurse. She has a dog."})


class ScriptedFakeJsonModel(BaseChatModel):
    """FAKE model: returns ``replies`` in order, each (text, finish_reason)."""

    replies: list[tuple[str, str]]
    calls: list[tuple[list[BaseMessage], dict[str, Any]]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake-json"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls.append((list(messages), kwargs))
        text, finish = self.replies[len(self.calls) - 1]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(
            content=text, response_metadata={"finish_reason": finish}))])


def run(model: ScriptedFakeJsonModel) -> SessionConsolidation:
    return call_structured(model, [HumanMessage("Consolidate this session.")],
                           SessionConsolidation, CostMeter(), "consolidate_session")


def test_truncated_output_is_not_echoed_and_repair_samples() -> None:
    model = ScriptedFakeJsonModel(replies=[('{"topics":[{"summary":"a a a a', "length"),
                                           (GOOD, "stop")])
    assert run(model).profile.startswith("Ana is a nurse")
    repair_messages, repair_kwargs = model.calls[1]
    assert not any(isinstance(m, AIMessage) for m in repair_messages)
    assert "cut off" in str(repair_messages[-1].content)
    assert repair_kwargs.get("temperature") == REPAIR_TEMPERATURE
    assert "temperature" not in model.calls[0][1]


def test_invalid_output_is_shown_back_with_the_error() -> None:
    model = ScriptedFakeJsonModel(replies=[('{"topics": 5}', "stop"), (GOOD, "stop")])
    run(model)
    repair_messages, _ = model.calls[1]
    assert isinstance(repair_messages[1], AIMessage)
    assert "not valid" in str(repair_messages[-1].content)


def test_a_text_that_repeats_itself_is_refused() -> None:
    with pytest.raises(StructuredOutputError, match="repeats a sentence"):
        run(ScriptedFakeJsonModel(replies=[(LOOP, "stop"), (LOOP, "stop")]))


def test_duplicate_entity_names_are_merged() -> None:
    topic = {"summary": "Camping weekend.", "turns": [1], "entities": ["Lake", "lake", "Tent"]}
    model = ScriptedFakeJsonModel(replies=[(json.dumps(
        {"topics": [topic], "routines": [], "profile": ""}), "stop")])
    assert run(model).topics[0].entities == ["Lake", "Tent"]


def test_an_output_cut_off_keeps_its_finished_items_without_a_repair() -> None:
    cut = ('{"topics":[{"summary":"Ana went camping.","entities":["Ana"]},'
           '{"summary":"Ana talked about her')
    model = ScriptedFakeJsonModel(replies=[(cut, "length")])
    result = run(model)
    assert [t.summary for t in result.topics] == ["Ana went camping."]
    assert len(model.calls) == 1


def test_a_long_summary_is_clipped_not_refused() -> None:
    long = "Ana went camping by the lake with her two sisters and their dogs. " * 2 + \
        "They swam every morning and " * 10 + "so on."
    model = ScriptedFakeJsonModel(replies=[(json.dumps(
        {"topics": [{"summary": long}], "routines": [], "profile": ""}), "stop")])
    summary = run(model).topics[0].summary
    assert summary.endswith("dogs.") and len(summary) <= 240 and len(model.calls) == 1


def test_a_repair_cut_off_keeps_its_finished_items_too() -> None:
    looping = '{"topics":[{"summary":"a a a a'
    cut = '{"topics":[{"summary":"Ana went camping.","entities":["Ana"]}],"routines":[{"desc'
    result = run(ScriptedFakeJsonModel(replies=[(looping, "length"), (cut, "length")]))
    assert [t.summary for t in result.topics] == ["Ana went camping."]
