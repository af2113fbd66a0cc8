"""Test helpers. ``HashingEmbedder`` is a deterministic bag-of-words embedder for store
tests that must not depend on a neural model (retrieval quality is tested with MiniLM)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

DIMENSION = 384


class HashingEmbedder:
    """Hashed bag of words, unit-normalised: shared words mean similar vectors."""

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(DIMENSION)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSION] += 1.0
        norm = np.linalg.norm(vector)
        return (vector / norm if norm else vector).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]
