"""When a text quotes a forgotten one: the forgotten text's distinctive spans, found exactly.

Forgetting a turn must also reach the texts that repeat it: a later reply that answered
"What is my gym locker code?" with "ZEBRA-7391", a fact, a topic or a profile that copied
it. A span of the forgotten text counts as quoted only when it is *distinctive*, unlikely
to recur in the user's other texts by chance:

- a **code**: a word of at least 4 characters with a digit in it (``ZEBRA-7391``,
  ``4417``, ``+351``, ``pin-4417-secret``), and each run of 4 or more letters and digits
  inside such a word that holds a digit (``7391``, so the number alone is found too).
  Years (1900-2099), dates, times of day and ordinals are not codes: every diary has them.
- a **run of words**: 6 words in a row (case and punctuation aside) of which at least 4 are
  neither stop words nor pieces of a date or time (``diagnosed with bipolar disorder last
  spring``). Runs come only from
  what the user said; a reply's wording is the model's and recurs across replies ("Is
  there anything else I can help you with?"), so a reply contributes its codes only.

A paraphrase or a short secret without a code ("I'm pregnant") is not recognised: what was
derived from the forgotten turn goes by provenance (``memory_graph.forgetting``), this only
adds the copies that provenance cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from memory_graph.text import STOP_WORDS, WORD, tokenize

RUN_WORDS = 6
RUN_CONTENT_WORDS = 4
MIN_CODE_CHARS = 4
#: What a quoted span is replaced with in a text that is kept.
FORGOTTEN = "[forgotten]"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                   re.IGNORECASE)
_TOKEN = re.compile(r"\S+")
#: Stripped from both ends of a word before it is taken for a code (with typographic quotes).
_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}<>«»\u201c\u201d\u2018\u2019"
_CALENDAR = re.compile(
    r"(19|20)\d\d|(19|20)\d0s"                      # a year, a decade
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"             # a date
    r"|\d{4}-\d{2}-\d{2}t[\d:.+-]*z?"               # an ISO timestamp
    r"|\d{1,2}(:\d{2}){1,2}(am|pm|h)?|\d{1,2}(am|pm)"  # a time of day
    r"|\d+(st|nd|rd|th)",                           # an ordinal
    re.IGNORECASE)


def _is_code(word: str) -> bool:
    return (len(word) >= MIN_CODE_CHARS and any(c.isdigit() for c in word)
            and not _CALENDAR.fullmatch(word))


def codes_in(text: str) -> set[str]:
    """The codes of ``text``, case-folded (module docstring)."""
    found: set[str] = set()
    for token in _TOKEN.findall(text):
        word = token.strip(_EDGE_PUNCTUATION)
        if _is_code(word):
            found.add(word.casefold())
            found.update(piece.casefold() for piece in WORD.findall(word) if _is_code(piece))
    return found


def _words(text: str) -> list[re.Match[str]]:
    return list(WORD.finditer(text))


def _is_content(word: str) -> bool:
    """Not a stop word, nor a piece of a date or time (a year, a number of 1-2 digits)."""
    return word not in STOP_WORDS and not (
        word.isdigit() and (len(word) <= 2 or _CALENDAR.fullmatch(word)))


def runs_in(text: str) -> set[tuple[str, ...]]:
    """The distinctive runs of words of ``text``, case-folded (module docstring)."""
    words = [m.group().casefold() for m in _words(text)]
    return {run for run in (tuple(words[i:i + RUN_WORDS])
                            for i in range(len(words) - RUN_WORDS + 1))
            if sum(map(_is_content, run)) >= RUN_CONTENT_WORDS}


@dataclass(frozen=True)
class Quotes:
    """The distinctive spans of forgotten texts, and where other texts hold them."""

    codes: frozenset[str] = frozenset()
    runs: frozenset[tuple[str, ...]] = frozenset()
    _pattern: re.Pattern[str] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        alternatives = "|".join(re.escape(c) for c in sorted(self.codes, key=len, reverse=True))
        object.__setattr__(self, "_pattern", re.compile(
            rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE) if self.codes else None)

    @classmethod
    def of(cls, user_words: Iterable[str] = (), model_words: Iterable[str] = ()) -> Quotes:
        """The spans of what the user said (codes and runs of words) and of what the
        model wrote (codes only)."""
        said = list(user_words)
        codes = {c for text in [*said, *model_words] for c in codes_in(text)}
        return cls(frozenset(codes), frozenset(r for text in said for r in runs_in(text)))

    def __bool__(self) -> bool:
        return bool(self.codes or self.runs)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` quotes a forgotten text: merged (start, end) character spans."""
        found: list[tuple[int, int]] = []
        if self._pattern is not None:
            found += [m.span() for m in self._pattern.finditer(text)]
        if self.runs:
            words = _words(text)
            found += [(words[i].start(), words[i + RUN_WORDS - 1].end())
                      for i in range(len(words) - RUN_WORDS + 1)
                      if tuple(w.group().casefold() for w in words[i:i + RUN_WORDS])
                      in self.runs]
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def found_in(self, text: str) -> bool:
        return bool(self.spans(text))

    def scrub(self, text: str) -> str:
        """``text`` with every quoted span replaced by ``FORGOTTEN``."""
        for start, end in reversed(self.spans(text)):
            text = text[:start] + FORGOTTEN + text[end:]
        return text

    def keyword_queries(self) -> list[str] | None:
        """Keyword queries whose hits, together, include every text that holds a span: a
        text holding a span holds each of its indexed words, so one word per span
        suffices (a code itself; the longest indexed word of a run, kept in batches).
        None when a span has no word a keyword index holds (all of it stop words, or
        letters and digits outside a-z and 0-9): then only reading every text finds it."""
        if not all(tokenize(code) for code in self.codes):
            return None
        queries = sorted(self.codes)
        words: set[str] = set()
        for run in self.runs:
            indexed = [w for w in run if tokenize(w)]
            if not indexed:
                return None
            words.add(max(indexed, key=len))
        ordered = sorted(words)
        queries += [" ".join(ordered[i:i + 16]) for i in range(0, len(ordered), 16)]
        return queries


@dataclass(frozen=True)
class Traces:
    """How to recognise a copy of forgotten memories made outside the store (the server's
    LangGraph checkpoints): it names a removed memory's id, holds a cleared text (a
    profile, a summary) whole, or quotes the forgotten texts (``Quotes``). A removed turn's
    own text is no trace: every copy of a turn carries its id, and a short text ("Noted.")
    recurs everywhere. UUIDs are not searched for quotes: they are the machinery's ids
    (runs, checkpoints, messages), and their 4-digit groups would match a code by chance."""

    ids: frozenset[str] = frozenset()
    texts: frozenset[str] = frozenset()
    quotes: Quotes = field(default_factory=Quotes)

    def found_in(self, text: str) -> bool:
        return (any(i in text for i in self.ids) or any(t in text for t in self.texts)
                or self.quotes.found_in(_UUID.sub(" ", text)))
