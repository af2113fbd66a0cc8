"""The structured output of the retrieval decision. Its JSON schema constrains decoding
where the provider allows it (llama.cpp grammars, OpenAI ``json_schema``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetrievalDecision(BaseModel):
    """The model's search words for what the message asks of the past: a further retrieval
    round runs when they (or the time window) differ from every search made so far. A
    small model asked "do the memories suffice?" says yes every time; asked for search
    words it gives them."""

    keywords: str = Field(default="", max_length=200,
                          description="Search words; empty when the message asks nothing "
                                      "of the past.")
    start: str | None = Field(default=None, description="YYYY-MM-DD, first day to search.")
    end: str | None = Field(default=None, description="YYYY-MM-DD, last day to search.")
