"""Structured model output: schema-constrained where the provider allows it, validated by
pydantic, one repair retry, then ``StructuredOutputError`` for the caller to record."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.constants import TAG_NOSTREAM
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from agent_runtime.cost import CostMeter
from memory_graph.errors import PersonaVLMError

T = TypeVar("T", bound=BaseModel)


class StructuredOutputError(PersonaVLMError, RuntimeError):
    """The model's output did not validate against the schema, even after a repair."""

    def __init__(self, step: str, schema: str, detail: str, raw: str) -> None:
        super().__init__(f"{step}: the model did not produce a valid {schema} after one "
                         f"repair attempt: {detail}")
        self.step = step
        self.raw = raw


def invoke_model(model: BaseChatModel | Any, messages: Sequence[BaseMessage], meter: CostMeter,
                 step: str, *, user_facing: bool = False) -> AIMessage:
    """One model call, metered under ``step`` and tagged ``personavlm:<step>``. Only the
    reply is ``user_facing``: every other call (retrieval decision, extraction,
    personality, captions) is tagged ``nostream``, so LangGraph's ``messages`` stream and a
    chat UI show the reply's tokens and nothing else."""
    start = time.perf_counter()
    tags = [f"personavlm:{step}"] + ([] if user_facing else [TAG_NOSTREAM])
    reply = model.invoke(list(messages), config={"tags": tags})
    if not isinstance(reply, AIMessage):
        reply = AIMessage(content=str(getattr(reply, "content", reply)))
    meter.record(step, reply, (time.perf_counter() - start) * 1000)
    return reply


#: String length bounds turn into huge llama.cpp grammars; pydantic checks them after
#: decoding. Array bounds stay: they are small, and without them a small model can loop
#: on a list until it runs out of tokens.
_UNCONSTRAINED_KEYS = frozenset({"maxLength", "minLength"})

#: The repair call samples instead of decoding greedily, so it does not walk into the same
#: repetition loop as the first attempt.
REPAIR_TEMPERATURE = 0.7


def decoding_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema to decode with: the model's, without string length bounds."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _UNCONSTRAINED_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped: dict[str, Any] = strip(schema.model_json_schema())
    return stripped


def constrained(model: BaseChatModel, schema: type[BaseModel]) -> Any:
    """The model bound to decode JSON of ``schema`` when its provider supports that."""
    json_schema = decoding_schema(schema)
    if getattr(model, "supports_json_schema", False):
        return model.bind(json_schema=json_schema)
    response_format = getattr(model, "json_response_format", None)
    if callable(response_format):
        return model.bind(response_format=response_format(schema.__name__, json_schema))
    return model


def schema_instruction(schema: type[BaseModel], shape: str = "") -> str:
    """What to ask for: a compact example ``shape`` when given (small models follow an
    example better than a schema, and it costs a tenth of the tokens), else the schema."""
    if shape:
        return f"Reply with one JSON object only, no prose, shaped like: {shape}"
    return ("Reply with one JSON object only, no prose, matching this JSON schema:\n"
            + json.dumps(schema.model_json_schema(), separators=(",", ":")))


def parse_json_object(text: str, schema: type[T]) -> T:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the output")
    return schema.model_validate_json(text[start:end + 1])


def parse_cut_off(text: str, schema: type[T]) -> T | None:
    """What an output cut off at the token limit completed: its finished items (an item
    left open is dropped), when that is valid and not empty. The token limit is then what
    bounds a call's cost, without a repair call."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        data = from_json(text[start:], allow_partial=True)
        result = schema.model_validate(_without_open_items(data))
    except (ValueError, ValidationError):
        return None
    return result if result.model_dump(exclude_defaults=True) else None


def _without_open_items(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_open_items(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_open_items(v) for v in value if v != {}]
    return value


def call_structured(model: BaseChatModel, messages: Sequence[BaseMessage], schema: type[T],
                    meter: CostMeter, step: str, *, shape: str = "",
                    max_tokens: int | None = None) -> T:
    bound = constrained(model, schema)
    if max_tokens is not None:
        bound = bound.bind(max_tokens=max_tokens)
    reply = invoke_model(bound, messages, meter, step)
    raw = _text(reply)
    try:
        return parse_json_object(raw, schema)
    except (ValueError, ValidationError) as first:
        cut = reply.response_metadata.get("finish_reason") == "length"
        kept = parse_cut_off(raw, schema) if cut else None
        if kept is not None:
            return kept
        second_reply = invoke_model(bound.bind(temperature=REPAIR_TEMPERATURE),
                                    repair_messages(messages, reply, first, schema, shape),
                                    meter, f"{step}:repair")
        retry = _text(second_reply)
        try:
            return parse_json_object(retry, schema)
        except (ValueError, ValidationError) as second:
            if second_reply.response_metadata.get("finish_reason") == "length":
                kept = parse_cut_off(retry, schema)
                if kept is not None:
                    return kept
            raise StructuredOutputError(step, schema.__name__, _short(second), retry) from second


def repair_messages(messages: Sequence[BaseMessage], reply: AIMessage, error: Exception,
                    schema: type[BaseModel], shape: str) -> list[BaseMessage]:
    """Ask again, showing the invalid output unless it was cut off at the token limit: a
    truncated output is usually a repetition loop, and echoing it invites another one."""
    instruction = schema_instruction(schema, shape)
    if reply.response_metadata.get("finish_reason") == "length":
        return [*messages, HumanMessage(content=(
            "Your previous answer was too long and was cut off. Answer again briefly: "
            f"short texts, no repeated items. {instruction}"))]
    return [*messages, AIMessage(content=_text(reply)), HumanMessage(content=(
        f"That output is not valid: {_short(error)}. {instruction}"))]


def _text(message: AIMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)


def _short(error: Exception) -> str:
    return str(error).replace("\n", " ")[:300]
