"""Relative time expressions in a remembered message, resolved against when it was said.

"I lost my job yesterday", remembered from a turn of 20 January 2023, is shown to the
model as "I lost my job yesterday (19 January 2023)": a small model copies a date it is
given far more reliably than it counts days back from a timestamp. Only unambiguous
expressions are resolved; the original words are kept and the date follows in brackets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNT = r"(\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"


def day_text(day: datetime) -> str:
    """The date as people write it: "7 May 2023"."""
    return f"{day.day} {day:%B %Y}"


def month_text(day: datetime) -> str:
    return f"{day:%B %Y}"


def _shift_months(day: datetime, months: int) -> datetime:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def _last_weekday(at: datetime, name: str) -> datetime:
    back = (at.weekday() - WEEKDAYS.index(name.lower())) % 7 or 7
    return at - timedelta(days=back)


Resolver = Callable[[re.Match[str], datetime], str]

#: (pattern, what it resolves to). Each phrase is matched whole (``\b`` on both sides) and
#: the scan takes the leftmost match, so "day before yesterday" is resolved as one phrase
#: and "last weekend" is never read as "last week"; the order of the rules does not matter.
_RULES: tuple[tuple[str, Resolver], ...] = (
    (r"\bday before yesterday\b", lambda m, at: day_text(at - timedelta(days=2))),
    (r"\b(yesterday|last night)\b", lambda m, at: day_text(at - timedelta(days=1))),
    (r"\btomorrow\b", lambda m, at: day_text(at + timedelta(days=1))),
    (rf"\b{_COUNT} days? ago\b", lambda m, at: day_text(at - timedelta(days=_count(m[1])))),
    (rf"\b{_COUNT} weeks? ago\b",
     lambda m, at: f"the week of {day_text(at - timedelta(weeks=_count(m[1])))}"),
    (rf"\b{_COUNT} months? ago\b",
     lambda m, at: month_text(_shift_months(at, -_count(m[1])))),
    (rf"\b{_COUNT} years? ago\b", lambda m, at: str(at.year - _count(m[1]))),
    (r"\blast weekend\b",
     lambda m, at: f"the weekend of {day_text(_last_weekday(at, 'saturday'))}"),
    (rf"\blast ({'|'.join(WEEKDAYS)})\b", lambda m, at: day_text(_last_weekday(at, m[1]))),
    (r"\blast week\b", lambda m, at: f"the week before {day_text(at)}"),
    (r"\bnext week\b", lambda m, at: f"the week after {day_text(at)}"),
    (r"\blast month\b", lambda m, at: month_text(_shift_months(at, -1))),
    (r"\bnext month\b", lambda m, at: month_text(_shift_months(at, 1))),
    (r"\blast year\b", lambda m, at: str(at.year - 1)),
    (r"\bnext year\b", lambda m, at: str(at.year + 1)),
)
#: One pass over the text: each rule is a named alternative, so a phrase is resolved once.
_PATTERN = re.compile("|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(_RULES)),
                      re.IGNORECASE)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), resolve) for p, resolve in _RULES)


def resolve_relative_dates(text: str, said_at: datetime) -> str:
    """``text`` with each relative time expression followed by its date in brackets."""
    def annotate(match: re.Match[str]) -> str:
        pattern, resolve = _COMPILED[int(str(match.lastgroup)[1:])]
        inner = pattern.fullmatch(match.group(0))
        return f"{match.group(0)} ({resolve(inner, said_at)})" if inner else match.group(0)

    return _PATTERN.sub(annotate, text)


#: A time named outright: a month, a weekday, a year, a date, "today" or "this week".
#: "may" is left out: as a word it is far more often the verb.
_NAMED_TIME = re.compile(
    rf"\b({'|'.join(m for m in MONTHS if m != 'may')}"
    rf"|{'|'.join(WEEKDAYS)}|today|tonight|(19|20)\d\d|\d{{1,2}}/\d{{1,2}}"
    r"|(this|that) (week|weekend|month|year|summer|winter|spring|autumn))\b", re.IGNORECASE)


def names_a_time(text: str) -> bool:
    """Whether ``text`` names a time (a date, a month, "last week"...), as opposed to
    asking for one ("when ...?")."""
    return bool(_NAMED_TIME.search(text) or _PATTERN.search(text))
