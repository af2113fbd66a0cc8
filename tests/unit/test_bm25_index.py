"""The embedded store's BM25 index against Okapi BM25 computed plainly over every live
document, with deletions, re-adds and time windows."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from memory_graph.backends.indexes import BM25Index
from memory_graph.text import tokenize

WORDS = ("river garden violin harbour lantern pepper meadow copper falcon orchard "
         "saddle thistle").split()


def plain_bm25(docs: dict[str, tuple[str, float]], query: str, k: int,
               window: tuple[float, float] | None, k1: float = 1.2,
               b: float = 0.75) -> list[tuple[str, float]]:
    tokens = {doc_id: Counter(tokenize(text)) for doc_id, (text, _) in docs.items()}
    n = len(docs)
    average = sum(sum(c.values()) for c in tokens.values()) / n
    scores: dict[str, float] = {}
    for term in dict.fromkeys(tokenize(query)):
        df = sum(1 for c in tokens.values() if term in c)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for doc_id, counts in tokens.items():
            tf = counts.get(term, 0)
            if tf:
                norm = k1 * (1 - b + b * sum(counts.values()) / average)
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
    inside = [(d, s) for d, s in scores.items() if s > 0 and (
        window is None or window[0] <= docs[d][1] < window[1])]
    return sorted(inside, key=lambda item: -item[1])[:k]


@pytest.mark.parametrize("seed", range(5))
def test_search_matches_plain_bm25(seed: int) -> None:
    rng = random.Random(seed)
    index = BM25Index()
    docs: dict[str, tuple[str, float]] = {}
    for step in range(400):
        doc_id = f"d{rng.randrange(150)}"
        if doc_id in docs and rng.random() < 0.3:
            index.remove(doc_id, docs.pop(doc_id)[0])
            continue
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
        if doc_id in docs:  # indexed again: the old text goes first
            index.remove(doc_id, docs[doc_id][0])
        docs[doc_id] = (text, float(step))
        index.add(doc_id, text, float(step))
    assert len(index) == len(docs)
    for _ in range(30):
        query = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
        window = (100.0, 300.0) if rng.random() < 0.5 else None
        got = index.search(query, 10, window)
        want = plain_bm25(docs, query, 10, window)
        assert [round(s, 9) for _, s in got] == [round(s, 9) for _, s in want]
        assert {d for d, _ in got} <= set(docs)
        if want:  # the same documents, but for ties at the cut
            cut = round(want[-1][1], 9)
            assert {d for d, s in got if round(s, 9) > cut} == \
                {d for d, s in want if round(s, 9) > cut}


def test_a_query_that_fails_midway_leaves_no_scores_behind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    index = BM25Index()
    docs = {f"d{i}": (" ".join(WORDS[i % len(WORDS):][:3]), float(i)) for i in range(40)}
    for doc_id, (text, at) in docs.items():
        index.add(doc_id, text, at)
    term_arrays = index._term_arrays
    calls = []

    def failing(term: str) -> object:
        calls.append(term)
        if len(calls) == 2:
            raise MemoryError("simulated")
        return term_arrays(term)

    monkeypatch.setattr(index, "_term_arrays", failing)
    with pytest.raises(MemoryError):
        index.search("river garden violin", 10)
    monkeypatch.undo()
    got = index.search("harbour", 10)
    assert [round(s, 9) for _, s in got] == [
        round(s, 9) for _, s in plain_bm25(docs, "harbour", 10, None)]
