"""Parsing of the timestamps found in histories (ISO, Persona-MME, LoCoMo)."""

from __future__ import annotations

import re
from datetime import datetime

from memory_graph.errors import InvalidTimestampError
from memory_graph.schema import as_utc

_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%I:%M %p on %d %B, %Y",
    "%I:%M %p on %d %b, %Y",
)
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def parse_timestamp(value: datetime | str) -> datetime:
    """A timezone-aware UTC datetime, or InvalidTimestampError saying what was wrong."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        parsed = _parse_text(re.sub(r"\s+", " ", value.strip()))
    else:
        raise InvalidTimestampError(f"timestamp must be a datetime or a non-empty string, "
                                    f"got {value!r}")
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        raise InvalidTimestampError(f"timestamp {value!r} is outside {_MIN_YEAR}-{_MAX_YEAR}")
    return as_utc(parsed)


def _parse_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise InvalidTimestampError(f"unrecognised timestamp {text!r}: use ISO 8601, "
                                f"'YYYY-MM-DD HH:MM' or LoCoMo's '1:56 pm on 8 May, 2023'")
