"""Text as every writer takes it: the check that it is valid Unicode, and the tokenisation
shared by every keyword index (stemmed, stop words removed)."""

from __future__ import annotations

import re
import unicodedata
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


#: A word: a run of letters and digits in any script ("Thảo", "Gdańsk", "東京"). Forgetting's
#: quotes (``memory_graph.quotes``) and the servers' full-text terms split on it too.
WORD = re.compile(r"[^\W_]+")
#: Marks folded away after a Latin letter ("á" is "a"), so a name typed with or without its
#: accents is the same word; after other scripts they are kept (the voicing marks of
#: Japanese kana change the sound).
_LATIN_END = 0x024F
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


def fold(text: str) -> str:
    """``text`` in lower case with the accents of Latin letters taken off."""
    if text.isascii():  # nothing to take off (most words; opening a store folds each)
        return text.lower()
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        if unicodedata.combining(char) and kept and ord(kept[-1]) <= _LATIN_END:
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def words(text: str) -> list[str]:
    """The words of ``text``, in any script, each folded (``fold``). Only ASCII letters
    were words before: "Siobhán" was the two words "siobh" and "n", and a message in
    Japanese had none, so keyword search never found it. Words are found before folding,
    so every word of a text is a word of its tokens too (forgetting finds the texts that
    quote a forgotten one through the words it holds, ``memory_graph.quotes``)."""
    return [word for raw in WORD.findall(text) for word in WORD.findall(fold(raw))]


def tokenize(text: str) -> list[str]:
    """Word stems of ``text`` (``words``) without stop words."""
    return list(_stemmer().stemWords([w for w in words(text) if w not in STOP_WORDS]))
