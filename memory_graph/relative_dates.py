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
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
           "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
           "eighteen": 18, "nineteen": 19, "twenty": 20, "a couple of": 2}
_COUNT = rf"(\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))})"
#: Words that put a clause's "on Saturday" in the future; without them it is the last one.
_FUTURE = re.compile(r"\b(will|shall|going to|gonna|planning|plan to|next|tomorrow|"
                     r"is on|are on|until|till)\b|'ll\b|'s on\b", re.IGNORECASE)
#: Where a clause ends: the future words of one clause ("is planning a trip, ...") say
#: nothing of another ("... who won on Saturday").
_CLAUSE_END = re.compile(r"[.!?,;:]")
#: "two days later": a count of days or weeks after the date named before it in the text.
_LATER = re.compile(rf"\b{_COUNT} (days?|weeks?) (?:later|after(?:wards)?)\b", re.IGNORECASE)
_DAY_TEXT = re.compile(r"\((\d{1,2}) (January|February|March|April|May|June|July|August|"
                       r"September|October|November|December) (\d{4})\)")


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


def _next_weekday(at: datetime, name: str) -> datetime:
    ahead = (WEEKDAYS.index(name.lower()) - at.weekday()) % 7 or 7
    return at + timedelta(days=ahead)


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
    # "on Saturday": the last Saturday before the message, or the next one in a sentence
    # about the future (``_FUTURE``; decided in ``resolve_relative_dates``).
    (rf"\bon ({'|'.join(WEEKDAYS)})\b", lambda m, at: day_text(_last_weekday(at, m[1]))),
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
_ON_WEEKDAY = next(pattern for pattern, _ in _COMPILED if pattern.pattern.startswith(r"\bon ("))


def _clause_at(text: str, position: int) -> str:
    """The clause of ``text`` around ``position`` (between punctuation marks)."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, position)), default=0)
    end = _CLAUSE_END.search(text, position)
    return text[start:end.start() if end else len(text)]


def _resolve_later(text: str) -> str:
    """Each "N days later" followed by the date it means, counted from the last date in
    brackets before it (one this module wrote); left alone without one."""
    def annotate(match: re.Match[str]) -> str:
        anchors = list(_DAY_TEXT.finditer(text, 0, match.start()))
        if not anchors:
            return match.group(0)
        day, month, year = anchors[-1].groups()
        anchor = datetime.strptime(f"{day} {month} {year}", "%d %B %Y")
        days = _count(match[1]) * (7 if match[2].startswith("week") else 1)
        return f"{match.group(0)} ({day_text(anchor + timedelta(days=days))})"

    return _LATER.sub(annotate, text)


def resolve_relative_dates(text: str, said_at: datetime) -> str:
    """``text`` with each relative time expression followed by its date in brackets."""
    def annotate(match: re.Match[str]) -> str:
        pattern, resolve = _COMPILED[int(str(match.lastgroup)[1:])]
        inner = pattern.fullmatch(match.group(0))
        if inner is None:
            return match.group(0)
        if pattern is _ON_WEEKDAY and _FUTURE.search(_clause_at(text, match.start())):
            return f"{match.group(0)} ({day_text(_next_weekday(said_at, inner[1]))})"
        return f"{match.group(0)} ({resolve(inner, said_at)})"

    return _resolve_later(_PATTERN.sub(annotate, text))


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
