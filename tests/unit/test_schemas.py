"""What LangGraph Studio and the server's ``/assistants/{id}/schemas`` show: non-null input,
output and context schemas for both graphs, a description on every field, the internal
``background`` kept out, and the fields with a fixed set of values as enums."""

from __future__ import annotations

from typing import Any

import pytest

from agent_runtime.resources import ResourceProvider
from graphs.agent import build_agent
from graphs.memory_service import build_memory_service


def graphs() -> list[Any]:
    provider = ResourceProvider()
    return [build_agent(provider=provider), build_memory_service(provider, "test-key")]


@pytest.mark.parametrize("which", ["input", "output", "context"])
def test_every_schema_field_has_a_description(which: str) -> None:
    for graph in graphs():
        schema = getattr(graph, f"get_{which}_jsonschema")()
        properties = schema["properties"]
        assert properties, (graph.name, which)
        missing = [name for name, spec in properties.items() if not spec.get("description")]
        assert not missing, (graph.name, which, missing)
        assert "background" not in properties


def test_fields_with_fixed_values_are_enums() -> None:
    agent, memory = graphs()
    context = agent.get_context_jsonschema()["properties"]
    for name in ("store_backend", "chat_provider", "search_recipe", "extraction_mode"):
        assert context[name]["enum"], name
    assert memory.get_input_jsonschema()["properties"]["action"]["enum"] == [
        "status", "sync", "forget"]
