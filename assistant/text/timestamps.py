"""Message timestamps written out for people and models: "[2023-03-14T19:02:11+00:00]" -> "[Tuesday 14 March 2023,
19:02]", so that "today" in a message reads against a date a reader (or a small model) can see, and so that a claim
"on 14 March" can be checked against the message's own date. Unparseable timestamps are left as they are."""

from __future__ import annotations

import re
from datetime import datetime

from assistant.text.lexicon import MONTH_NAMES, WEEKDAYS

_LINE_STAMP = re.compile(r"^\[([^\]\n]{8,40})\]", re.MULTILINE)  # a message line's leading "[timestamp]"


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 date-time ("2023-03-14T19:02:11+00:00", "2023-03-14 19:02"), or None."""
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def written_timestamp(value: str) -> str:
    """"Tuesday 14 March 2023, 19:02" (no time when it is midnight exactly and the value holds no time), or the
    value unchanged when it is not an ISO date-time."""
    when = parse_timestamp(value)
    if when is None:
        return value
    day = f"{WEEKDAYS[when.weekday()].capitalize()} {when.day} {MONTH_NAMES[when.month - 1]} {when.year}"
    has_time = bool(re.search(r"\d[T ]\d", value.strip()))
    return f"{day}, {when:%H:%M}" if has_time else day


def with_written_timestamps(text: str) -> str:
    """Message lines ("[timestamp] sender → recipient: text") with each leading timestamp written out."""
    return _LINE_STAMP.sub(lambda m: f"[{written_timestamp(m.group(1))}]", text)
