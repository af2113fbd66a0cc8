"""LangChain messages to the OpenAI chat format that llama.cpp and servers understand."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage


def role_of(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, ToolMessage):
        return "tool"
    return "user"


def content_parts(message: BaseMessage) -> list[tuple[str, str]]:
    """The message's content as ("text", text) and ("image", data-or-http URL) parts, in
    order; blocks of other types are skipped."""
    blocks = [message.content] if isinstance(message.content, str) else message.content
    parts: list[tuple[str, str]] = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(("text", block))
        elif block.get("type") == "text":
            parts.append(("text", block.get("text", "")))
        elif block.get("type") in ("image", "image_url"):
            parts.append(("image", image_url(block)))
    return parts


def to_openai_messages(messages: list[BaseMessage], *, images: bool) -> list[dict[str, Any]]:
    """With ``images=False`` each image block becomes the text "[image]" (text-only models)."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message.content, str):
            converted.append({"role": role_of(message), "content": message.content})
        elif images:
            converted.append({"role": role_of(message), "content": [
                {"type": "text", "text": value} if kind == "text" else
                {"type": "image_url", "image_url": {"url": value}}
                for kind, value in content_parts(message)]})
        else:
            converted.append({"role": role_of(message), "content": "\n".join(
                value if kind == "text" else "[image]"
                for kind, value in content_parts(message))})
    return converted


def image_url(block: dict[str, Any]) -> str:
    if block.get("type") == "image_url":
        url = block["image_url"]
        return str(url["url"] if isinstance(url, dict) else url)
    mime = block.get("mime_type", "image/png")
    return f"data:{mime};base64,{block.get('base64') or block.get('data', '')}"
