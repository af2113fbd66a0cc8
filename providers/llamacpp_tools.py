"""Tool calling for the llama.cpp chat model, by constrained JSON: the model is told the
tools and must write one JSON object, either a call (``{"tool": ..., "arguments": ...}``,
the arguments held to the tool's schema by llama.cpp's grammar) or an answer
(``{"answer": ...}``). A call becomes an ``AIMessage`` with ``tool_calls``, as LangChain's
agents expect; earlier calls and their results are shown to the model as text, so that
it needs no chat template of its own for them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

TOOL_INSTRUCTIONS = """

You can call these tools:
{tools}
Write one JSON object and nothing else: {{"tool": "<its name>", "arguments": {{...}}}} \
to call a tool, or {{"answer": "<your reply>"}} to reply to the user. Call a tool only \
when you need what it returns; once you have a tool's result, reply."""
MUST_CALL = """

You can call these tools:
{tools}
Write one JSON object and nothing else: {{"tool": "<its name>", "arguments": {{...}}}}."""


def calls_tools(kwargs: dict[str, Any]) -> bool:
    """Whether a call's bound arguments ask for tools (``bind_tools``, not ``"none"``)."""
    return bool(kwargs.get("tools")) and kwargs.get("tool_choice") != "none"


def tool_schema(tools: Sequence[dict[str, Any]], tool_choice: Any) -> dict[str, Any]:
    """The JSON schema of what the model may write: a call of one of ``tools`` (only the
    one ``tool_choice`` names, when it names one) or, unless a call is required
    (``"any"``/``"required"``/a name), an answer."""
    named = _named(tool_choice)
    calls = [{"type": "object",
              "properties": {"tool": {"const": tool["function"]["name"]},
                             "arguments": tool["function"].get("parameters")
                             or {"type": "object"}},
              "required": ["tool", "arguments"]}
             for tool in tools if named is None or tool["function"]["name"] == named]
    answer = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"]}
    options = calls if _must_call(tool_choice) else [*calls, answer]
    return options[0] if len(options) == 1 else {"anyOf": options}


def with_tools(messages: list[BaseMessage], tools: Sequence[dict[str, Any]],
               tool_choice: Any) -> list[BaseMessage]:
    """The conversation as the model sees it with tools: the tools described in the
    system message, earlier calls and results as text."""
    listing = "\n".join(
        f"- {t['function']['name']}: {t['function'].get('description', '')} Arguments: "
        f"{json.dumps((t['function'].get('parameters') or {}).get('properties', {}))}"
        for t in tools)
    addition = (MUST_CALL if _must_call(tool_choice) else TOOL_INSTRUCTIONS).format(
        tools=listing)
    shown: list[BaseMessage] = []
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            shown.append(AIMessage(content="\n".join(
                json.dumps({"tool": call["name"], "arguments": call["args"]})
                for call in message.tool_calls)))
        elif isinstance(message, ToolMessage):
            shown.append(HumanMessage(content=f"[Result of {message.name or 'the tool'}: "
                                              f"{message.text}]"))
        else:
            shown.append(message)
    if shown and isinstance(shown[0], SystemMessage):
        return [SystemMessage(content=shown[0].text + addition), *shown[1:]]
    return [SystemMessage(content=addition.strip()), *shown]


def parsed_reply(text: str) -> AIMessage:
    """The model's JSON as a message: a tool call, or the answer as content. Text that is
    not such JSON (the grammar should make that impossible) is taken as the answer."""
    try:
        written = json.loads(text)
    except ValueError:
        return AIMessage(content=text)
    if isinstance(written, dict) and isinstance(written.get("tool"), str):
        arguments = written.get("arguments")
        return AIMessage(content="", tool_calls=[{
            "name": written["tool"], "args": arguments if isinstance(arguments, dict) else {},
            "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}])
    if isinstance(written, dict) and isinstance(written.get("answer"), str):
        return AIMessage(content=written["answer"])
    return AIMessage(content=text)


def _named(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, str) and tool_choice not in ("auto", "any", "required", "none"):
        return tool_choice
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        return str(name) if name else None
    return None


def _must_call(tool_choice: Any) -> bool:
    return tool_choice in ("any", "required") or _named(tool_choice) is not None
