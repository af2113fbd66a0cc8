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


def to_openai_messages(messages: list[BaseMessage], *, images: bool) -> list[dict[str, Any]]:
    """With ``images=False`` each image block becomes the text "[image]" (text-only models)."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        content = message.content
        if isinstance(content, str):
            converted.append({"role": role_of(message), "content": content})
            continue
        parts: list[dict[str, Any]] = []
        for block in content:
            if isinstance(block, str):
                parts.append({"type": "text", "text": block})
            elif block.get("type") == "text":
                parts.append({"type": "text", "text": block.get("text", "")})
            elif block.get("type") in ("image", "image_url"):
                if images:
                    parts.append({"type": "image_url", "image_url": {"url": image_url(block)}})
                else:
                    parts.append({"type": "text", "text": "[image]"})
        if images:
            converted.append({"role": role_of(message), "content": parts})
        else:
            text = "\n".join(p["text"] for p in parts)
            converted.append({"role": role_of(message), "content": text})
    return converted


def image_url(block: dict[str, Any]) -> str:
    if block.get("type") == "image_url":
        url = block["image_url"]
        return str(url["url"] if isinstance(url, dict) else url)
    mime = block.get("mime_type", "image/png")
    return f"data:{mime};base64,{block.get('base64') or block.get('data', '')}"
