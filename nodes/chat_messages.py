"""The ``messages`` channel: a turn given as LangGraph chat messages (Studio's chat, any
client that speaks ``{"messages": [...]}``), read into the text and images ``perceive``
works with."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from memory_graph.errors import InvalidInputError
from nodes.state import RecentTurn


def pending_user_message(messages: list[AnyMessage]) -> tuple[str, list[Any]] | None:
    """Text and images of the last message when it is the user's and not answered yet;
    None otherwise. Images are content blocks: ``image_url`` with a data URL, or ``image``
    with base64 data (OpenAI and LangChain's standard forms)."""
    if not messages or not isinstance(messages[-1], HumanMessage):
        return None
    content = messages[-1].content
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[Any] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "image_url":
            url = block.get("image_url")
            images.append(url.get("url") if isinstance(url, dict) else url)
        elif block.get("type") == "image":
            images.append(block.get("base64") or block.get("data") or block.get("url"))
        else:
            raise InvalidInputError(f"unsupported message content block {block.get('type')!r}")
    return " ".join(t for t in texts if t).strip(), images


def unanswered(messages: list[AnyMessage], pending: bool) -> set[str]:
    """Ids of the user messages earlier runs of the thread took in but never answered (they
    failed): those after the thread's last reply, but for this turn's own (``pending``:
    the last message is this turn's). A run adds one user message and its reply, so any
    other user message there is what a failed run left. Removed, so no later run reads it."""
    earlier = messages[:-1] if pending else messages
    left: set[str] = set()
    for message in reversed(earlier):
        if isinstance(message, AIMessage):
            break
        if isinstance(message, HumanMessage) and message.id:
            left.add(message.id)
    return left


def thread_turns(messages: list[AnyMessage], pending: bool, limit: int
                 ) -> list[RecentTurn]:
    """The thread's conversation before this turn (the last ``limit`` user and assistant
    messages with text), as the reply prompt's recent turns; ``pending``: the last message
    is this turn's and is left out. Empty for a thread without earlier messages."""
    earlier = messages[:-1] if pending else messages
    said = [m for m in earlier if isinstance(m, HumanMessage | AIMessage) and str(m.text).strip()
            and not (isinstance(m, AIMessage) and m.tool_calls)]
    return [{"role": "assistant" if isinstance(m, AIMessage) else "user",
             "text": str(m.text).strip(), "at": None, "id": m.id or ""}
            for m in said[-limit:]] if limit > 0 else []
