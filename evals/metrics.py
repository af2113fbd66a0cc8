"""Scoring rules of the benchmarks, as their official scripts define them.

LoCoMo (snap-research/LoCoMo ``task_eval/evaluation.py``): token F1 after normalisation
(lower-case, commas and punctuation removed, articles and "and" removed, Porter stems);
category 1 (multi-hop) answers are split on commas and each gold part takes its best
matching predicted part; category 3 keeps the gold answer before the first ";"; category
5 (adversarial) is correct when the reply says the information is not available.
Persona-MME (PersonaVLM ``eval.py``): the option letter is what precedes the first ")".
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from nltk.stem import PorterStemmer

_STEMMER = PorterStemmer()
_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
NOT_AVAILABLE = ("no information available", "not mentioned")


def normalize_answer(text: str) -> str:
    text = text.replace(",", "").lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(prediction: str, truth: str) -> float:
    predicted = [_STEMMER.stem(w) for w in normalize_answer(prediction).split()]
    gold = [_STEMMER.stem(w) for w in normalize_answer(truth).split()]
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_multi(prediction: str, truth: str) -> float:
    """Category 1: every comma-separated gold part scored by its best predicted part."""
    predictions = [p.strip() for p in prediction.split(",")]
    truths = [t.strip() for t in truth.split(",")]
    return sum(max(f1_score(p, t) for p in predictions) for t in truths) / len(truths)


def locomo_score(prediction: str, answer: str, category: int) -> float:
    if category == 5:
        lowered = prediction.lower()
        return 1.0 if any(phrase in lowered for phrase in NOT_AVAILABLE) else 0.0
    if category == 1:
        return f1_multi(prediction, answer)
    if category == 3:
        answer = answer.split(";")[0].strip()
    return f1_score(prediction, answer)


def choice_letter(reply: str) -> str | None:
    """The option letter of a multiple-choice reply: the last letter before the first ")"
    ("(b) Painting." -> "b"); None when the reply has no ")"."""
    head, found, _ = reply.partition(")")
    if not found:
        return None
    letters = [c for c in head if c.isalpha()]
    return letters[-1].lower() if letters else None


def evidence_recall(retrieved: Sequence[str], gold: Sequence[str], k: int | None = None
                    ) -> float | None:
    """Share of the gold evidence turns among the first ``k`` retrieved turn ids (all when
    ``k`` is None); None when the item has no gold evidence."""
    if not gold:
        return None
    head = retrieved if k is None else retrieved[:k]
    return len(set(gold).intersection(head)) / len(set(gold))
