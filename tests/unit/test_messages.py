"""LangChain messages to the OpenAI chat format: text-only models get "[image]" in place
of each photo; vision models get ``image_url`` parts in order."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from providers.messages import content_parts, to_openai_messages

MIXED = HumanMessage(content=[{"type": "text", "text": "Look:"},
                              {"type": "image", "base64": "QUJD", "mime_type": "image/png"},
                              {"type": "text", "text": "my cat."}])


def test_text_only_models_get_a_placeholder_per_image() -> None:
    out = to_openai_messages([SystemMessage("sys"), MIXED, AIMessage("Cute!")], images=False)
    assert out == [{"role": "system", "content": "sys"},
                   {"role": "user", "content": "Look:\n[image]\nmy cat."},
                   {"role": "assistant", "content": "Cute!"}]


def test_vision_models_get_image_url_parts_in_order() -> None:
    [message] = to_openai_messages([MIXED], images=True)
    assert message["content"] == [
        {"type": "text", "text": "Look:"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
        {"type": "text", "text": "my cat."}]


def test_content_parts_skips_unknown_blocks() -> None:
    message = HumanMessage(content=["hi", {"type": "tool_use", "id": "x"},
                                    {"type": "image_url", "image_url": "http://h/i.png"}])
    assert content_parts(message) == [("text", "hi"), ("image", "http://h/i.png")]
