"""In-process BM25 and vector indexes used by the embedded networkx backend.

Both are incremental (one document at a time) and support deletion, and both keep each
document's event time so that a time window filters before ranking, not after.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from memory_graph.text import tokenize

FloatArray = npt.NDArray[np.float64]
FloatVector = npt.NDArray[np.float32]
_NO_TIME = float("nan")


class _Slots:
    """Maps document ids to dense row numbers; deleted rows are masked, not moved, and a
    document added again takes its old row."""

    def __init__(self) -> None:
        self.row_of: dict[str, int] = {}
        self.ids: list[str] = []
        self.alive = np.zeros(0, dtype=bool)
        self.times = np.zeros(0, dtype=np.float64)
        self.count = 0

    def _grow(self, needed: int) -> None:
        if needed <= len(self.alive):
            return
        capacity = grown_capacity(len(self.alive), needed)
        alive = np.zeros(capacity, dtype=bool)
        alive[: len(self.alive)] = self.alive
        times = np.full(capacity, _NO_TIME)
        times[: len(self.times)] = self.times
        self.alive, self.times = alive, times

    def add(self, doc_id: str, event_ts: float | None) -> int:
        row = self.row_of.get(doc_id)
        if row is None:
            row = len(self.ids)
            self._grow(row + 1)
            self.row_of[doc_id] = row
            self.ids.append(doc_id)
        if not self.alive[row]:
            self.count += 1
        self.alive[row] = True
        self.times[row] = _NO_TIME if event_ts is None else event_ts
        return row

    def remove(self, doc_id: str) -> int | None:
        """The row the document had, None if it was not in the index."""
        row = self.row_of.get(doc_id)
        if row is None or not self.alive[row]:
            return None
        self.alive[row] = False
        self.count -= 1
        return row

    def live_row(self, doc_id: str) -> int | None:
        row = self.row_of.get(doc_id)
        return row if row is not None and self.alive[row] else None

    def mask(self, window: tuple[float, float] | None) -> npt.NDArray[np.bool_]:
        n = len(self.ids)
        alive = self.alive[:n]
        if window is None:
            return alive
        lo, hi = window
        times = self.times[:n]
        with np.errstate(invalid="ignore"):
            return alive & (times >= lo) & (times < hi)


def grown_capacity(capacity: int, needed: int) -> int:
    """A quarter more than needed: a store of a million rows does not hold half a million
    empty ones, and growing stays amortised O(1)."""
    return max(needed, capacity + capacity // 4, 64)


def _top_k(scores: FloatArray, mask: npt.NDArray[np.bool_], k: int) -> list[tuple[int, float]]:
    candidates = np.flatnonzero(mask & (scores > -np.inf))
    if candidates.size == 0 or k <= 0:
        return []
    values = scores[candidates]
    if candidates.size > k:
        part = np.argpartition(-values, k - 1)[:k]
        candidates, values = candidates[part], values[part]
    order = np.argsort(-values, kind="stable")
    return [(int(candidates[i]), float(values[i])) for i in order]


class BM25Index:
    """Okapi BM25 over stemmed tokens, with incremental add and delete. A term's postings
    are two packed arrays (rows, term counts), 6 bytes a posting; a query touches only the
    postings of its terms: no array the size of the index is built per query."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._slots = _Slots()
        self._postings: dict[str, tuple[array[int], array[int]]] = {}
        self._lengths = np.zeros(0, dtype=np.float64)
        #: Reused by every query, zero between queries: scores by row, rows touched.
        self._scratch = np.zeros(0, dtype=np.float64)
        self._touched = np.zeros(0, dtype=bool)
        self._total_length = 0.0

    def __len__(self) -> int:
        return self._slots.count

    def add(self, doc_id: str, text: str, event_ts: float | None) -> None:
        """Index a document not in the index (``remove`` it first to index it again)."""
        if self._slots.live_row(doc_id) is not None:
            raise ValueError(f"{doc_id!r} is indexed already")
        row = self._slots.add(doc_id, event_ts)
        counts = Counter(tokenize(text))
        for term, tf in counts.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = (array("i"), array("H"))
            postings[0].append(row)
            postings[1].append(min(tf, 0xFFFF))
        if row >= len(self._lengths):
            capacity = grown_capacity(len(self._lengths), row + 1)
            grown = np.zeros(capacity, dtype=np.float64)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown
            self._scratch = np.zeros(capacity, dtype=np.float64)
            self._touched = np.zeros(capacity, dtype=bool)
        self._lengths[row] = sum(counts.values())
        self._total_length += self._lengths[row]

    def remove(self, doc_id: str, text: str) -> None:
        """Take out a document, given the text it was indexed with (its terms are not
        kept per document)."""
        row = self._slots.remove(doc_id)
        if row is None:
            return
        for term in set(tokenize(text)):
            rows, tfs = self._postings[term]
            at = rows.index(row)
            del rows[at]
            del tfs[at]
            if not rows:
                del self._postings[term]
        self._total_length -= self._lengths[row]

    def _term_arrays(self, term: str) -> tuple[npt.NDArray[np.int32], FloatArray]:
        rows, tfs = self._postings[term]
        return np.array(rows, dtype=np.int32), np.array(tfs, dtype=np.float64)

    def search(self, query: str, k: int,
               window: tuple[float, float] | None = None) -> list[tuple[str, float]]:
        n_docs = len(self)
        terms = [t for t in dict.fromkeys(tokenize(query)) if t in self._postings]
        if n_docs == 0 or not terms or k <= 0:
            return []
        average = self._total_length / n_docs
        try:
            for term in terms:  # a term's postings hold each row once
                term_rows, tfs = self._term_arrays(term)
                df = len(term_rows)
                idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                norm = self.k1 * (1 - self.b + self.b * self._lengths[term_rows] / average)
                self._scratch[term_rows] += idf * tfs * (self.k1 + 1) / (tfs + norm)
                self._touched[term_rows] = True
        finally:  # the buffers are zero again for the next query, whatever happened
            rows = np.flatnonzero(self._touched)
            scores = self._scratch[rows]  # a copy
            self._scratch[rows] = 0.0
            self._touched[rows] = False
        keep = self._slots.alive[rows] & (scores > 0)
        if window is not None:
            lo, hi = window
            times = self._slots.times[rows]
            with np.errstate(invalid="ignore"):
                keep &= (times >= lo) & (times < hi)
        rows, scores = rows[keep], scores[keep]
        if rows.size > k:
            part = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[part], scores[part]
        order = np.lexsort((rows, -scores))
        return [(self._slots.ids[int(rows[i])], float(scores[i])) for i in order]


class VectorIndex:
    """Exact cosine search over unit vectors in a growable float32 matrix."""

    def __init__(self) -> None:
        self._slots = _Slots()
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return self._slots.count

    @property
    def dimension(self) -> int | None:
        """Dimension of the stored vectors, None before the first one."""
        return self._matrix.shape[1] or None

    def add(self, doc_id: str, vector: Sequence[float] | FloatVector,
            event_ts: float | None) -> None:
        """Index a document's vector, in its old row if it had one."""
        vec = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        if norm > 0:
            vec = vec / norm
        if self._matrix.shape[1] == 0:
            self._matrix = np.zeros((64, vec.shape[0]), dtype=np.float32)
        if vec.shape[0] != self._matrix.shape[1]:
            raise ValueError(f"vector of dimension {vec.shape[0]} in an index of "
                             f"dimension {self._matrix.shape[1]}")
        row = self._slots.add(doc_id, event_ts)
        if row >= self._matrix.shape[0]:
            grown = np.zeros((grown_capacity(self._matrix.shape[0], row + 1),
                              self._matrix.shape[1]), dtype=np.float32)
            grown[: self._matrix.shape[0]] = self._matrix
            self._matrix = grown
        self._matrix[row] = vec

    def remove(self, doc_id: str) -> None:
        row = self._slots.remove(doc_id)
        if row is not None:
            self._matrix[row] = 0.0

    def vector_of(self, doc_id: str) -> FloatVector | None:
        """The stored (unit) vector of a document, a copy; None when it has none here."""
        row = self._slots.live_row(doc_id)
        return None if row is None else self._matrix[row].copy()

    def search(self, vector: Sequence[float], k: int,
               window: tuple[float, float] | None = None) -> list[tuple[str, float]]:
        n = len(self._slots.ids)
        if len(self) == 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if query.shape[0] != self._matrix.shape[1]:
            raise ValueError(f"query of dimension {query.shape[0]} in an index of "
                             f"dimension {self._matrix.shape[1]}")
        query = query / (float(np.linalg.norm(query)) or 1.0)
        scores = (self._matrix[:n] @ query).astype(np.float64)
        hits = _top_k(scores, self._slots.mask(window), k)
        return [(self._slots.ids[row], score) for row, score in hits]
