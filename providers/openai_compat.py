"""OpenAI-compatible endpoints (vLLM, Ollama, llama.cpp server) through langchain-openai."""

from __future__ import annotations

from typing import Any, Literal

from langchain_openai import ChatOpenAI
from pydantic import Field


class ChatOpenAICompatible(ChatOpenAI):
    """``ChatOpenAI`` that also says how the server takes a JSON schema: OpenAI and vLLM
    use ``json_schema``; llama.cpp's server takes ``json_object`` with a ``schema``."""

    json_schema_style: Literal["json_schema", "json_object"] = "json_schema"
    supports_vision: bool = Field(default=True, description="Send images as content blocks.")

    def json_response_format(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if self.json_schema_style == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False}}
