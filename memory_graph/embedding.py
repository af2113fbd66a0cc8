"""What the memory graph needs from an embedding model. Implementations live in
``providers.embeddings``; any object with these two methods will do."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

#: Dimension of the default embeddings (all-MiniLM-L6-v2); the Cypher backends create their
#: vector indexes with it unless told otherwise.
DEFAULT_EMBEDDING_DIMENSION = 384


@runtime_checkable
class Embedder(Protocol):
    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...
