"""Text as every writer takes it: the check that it is valid Unicode, and the tokenisation
shared by every keyword index (stemmed, stop words removed)."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from memory_graph.errors import InvalidInputError

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> str | None:
    """Where ``text`` holds a lone surrogate, said without quoting the text; None when it is
    valid Unicode. A lone surrogate (half of a UTF-16 pair, left by a JSON ``\\ud800``
    escape or by a byte read with ``errors="surrogateescape"``) has no UTF-8 form, so no
    id, store, model or terminal can take it."""
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return None
    return (f"a lone surrogate U+{ord(found.group()):04X} at character {found.start()} "
            "(half of a UTF-16 pair, often a byte that was not UTF-8)")


def check_unicode(text: str, what: str) -> None:
    """InvalidInputError when ``text`` (named ``what`` in the message) is not valid
    Unicode: refused, never repaired, so what is stored is what was said."""
    problem = lone_surrogate(text)
    if problem is not None:
        raise InvalidInputError(f"{what} is not valid Unicode: {problem}")


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
