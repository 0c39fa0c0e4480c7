"""Machine-translated messages as evidence: the claim is checked against the translation (the English the model
read), and its identifiers against the original. `original_lines` gives, for each evidence unit that holds a
machine translation, the same message line with the original body in place of the translation; support.py keeps
only the numbers, dates, registrations and capitalised names of the translation that the original also holds, so a
number the translation invented (or changed) supports nothing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from assistant.text.lexicon import MONTHS, WEEKDAYS
from assistant.text.messages import message_records
from assistant.types import Passage

Span = tuple[int, int]
NAME_PREFIX = 4  # an inflected name keeps its stem: "Kowalskiego" holds "Kowalski"'s first four letters
_CALENDAR = frozenset(WEEKDAYS) | frozenset(MONTHS)  # translated calendar words: not checked here (no lexicon)
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)


def original_lines(p: Passage, units: Sequence[Span], lines: Sequence[Span]) -> list[str | None]:
    """Per unit: the line with the original body instead of its machine translation, or None for any other unit.
    `units` are the message spans (the English text), `lines` the whole lines they were widened to."""
    if p.kind != "messages":
        return [None] * len(units)
    machine = {(r.start, r.end): r.body for r in message_records(p.meta) if r.machine and r.body.strip()}
    out: list[str | None] = []
    for (s, e), (ls, le) in zip(units, lines, strict=True):
        body = machine.get((s, e))
        out.append(None if body is None else p.text[ls:s] + body + p.text[e:le])
    return out


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def unsupported_names(translation: str, original: str) -> set[str]:
    """Lower-cased capitalised words of the translation (other than a sentence's first word) whose first
    NAME_PREFIX letters (diacritics folded) do not occur in the original: names the model did not read there.
    English weekday and month names are left out: checking them needs each language's calendar words."""
    folded = _fold(original)
    out: set[str] = set()
    for m in _CAPITALISED.finditer(translation):
        word = m.group(0)
        before = translation[:m.start()].rstrip()
        if not word[0].isupper() or not before or before[-1] in ".!?:" or word.lower() in _CALENDAR:
            continue
        if _fold(word[:NAME_PREFIX]) not in folded:
            out.add(word.lower().removesuffix("'s"))
    return out
