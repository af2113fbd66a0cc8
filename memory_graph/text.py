"""Tokenisation shared by every keyword index (stemmed, stop words removed)."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    """
    a an the and or of to in on at for with is are was were be been being i you he she
    it we they my your his her its our their me him them this that these those do did
    does doing have has had what when where who whom why how which not no so but if as
    by from about into than then there here just very can could would should will shall
    may might also too up out over any some all am s t
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-case word stems of ``text`` without stop words."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]
    return list(_stemmer().stemWords(words))
