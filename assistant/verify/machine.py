"""Machine-translated messages as evidence: the claim is checked against the translation (the English the model
read), and its identifiers against the original. `original_lines` gives, for each evidence unit that holds a
machine translation, the same message line with the original body in place of the translation; support.py keeps
only the numbers, dates, registrations and capitalised names of the translation that the original also holds, so a
number the translation invented (or changed) supports nothing. Weekday and month names of the translation are read
against the original's calendar: the weekdays and months it names in its own language (text.calendar_words), its
written dates, and the message's timestamp; a name they contradict supports nothing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from assistant.text.calendar_words import calendar_names, written_dates
from assistant.text.identifiers import extract_identifiers
from assistant.text.lexicon import MONTH_NAMES, MONTHS, WEEKDAYS
from assistant.text.messages import message_records
from assistant.text.timestamps import parse_timestamp
from assistant.types import Passage

Span = tuple[int, int]
NAME_PREFIX = 4  # an inflected name keeps its stem: "Kowalskiego" holds "Kowalski"'s first four letters
_CALENDAR = frozenset(WEEKDAYS) | frozenset(MONTHS)  # checked against the original's calendar, not as names
_MONTH_WORDS = frozenset(m.lower() for m in MONTH_NAMES)
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)
_STAMP = re.compile(r"^\[([^\]\n]{8,40})\]")


@dataclass(frozen=True)
class Original:
    """A machine-translated unit's line with the original body in place of the translation, the dates the body
    writes with month names in its language appended in English ("5 May 2024"), and the original's language."""
    line: str
    lang: str


def original_lines(p: Passage, units: Sequence[Span], lines: Sequence[Span]) -> list[Original | None]:
    """Per unit: the line with the original body instead of its machine translation, or None for any other unit.
    `units` are the message spans (the English text), `lines` the whole lines they were widened to."""
    if p.kind != "messages":
        return [None] * len(units)
    machine = {(r.start, r.end): r for r in message_records(p.meta) if r.machine and r.body.strip()}
    out: list[Original | None] = []
    for (s, e), (ls, le) in zip(units, lines, strict=True):
        r = machine.get((s, e))
        if r is None:
            out.append(None)
            continue
        dates = written_dates(r.body, r.lang)
        out.append(Original(p.text[ls:s] + r.body + p.text[e:le] + (f" ({'; '.join(dates)})" if dates else ""),
                            r.lang))
    return out


def calendar_allowed(original: str, lang: str) -> tuple[set[str], set[str]]:
    """(weekdays, months), lower-case English, that a translation of `original` (a message line in `lang`, its
    "[timestamp]" first) may name: those the original names in its language, the months of its dates, and the
    message's own weekday and month; when the original names no weekday, the day before and after the timestamp
    too ("tomorrow", "yesterday" written as day names)."""
    days, months = calendar_names(original, lang)
    months |= {MONTH_NAMES[m - 1].lower() for _, m, _ in extract_identifiers(original).dates if 1 <= m <= 12}
    stamp = _STAMP.match(original)
    when = parse_timestamp(stamp.group(1)) if stamp else None
    if when is not None:
        near = (0,) if days else (-1, 0, 1)
        days |= {WEEKDAYS[(when + timedelta(days=k)).weekday()] for k in near}
        months.add(MONTH_NAMES[when.month - 1].lower())
    return days, months


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def unsupported_names(translation: str, original: str, lang: str = "") -> set[str]:
    """Lower-cased capitalised words of the translation (other than a sentence's first word) whose first
    NAME_PREFIX letters (diacritics folded) do not occur in the original: names the model did not read there; and
    English weekday and month names (anywhere) that the original's calendar contradicts (`calendar_allowed`)."""
    folded = _fold(original)
    days, months = calendar_allowed(original, lang)
    out: set[str] = set()
    for m in _CAPITALISED.finditer(translation):
        word = m.group(0)
        low = word.lower()
        if word[0].isupper() and ((low in WEEKDAYS and low not in days) or low in _MONTH_WORDS - months):
            out.add(low)
            continue
        before = translation[:m.start()].rstrip()
        if not word[0].isupper() or not before or before[-1] in ".!?:" or low in _CALENDAR:
            continue
        if _fold(word[:NAME_PREFIX]) not in folded:
            out.add(low.removesuffix("'s"))
    return out
