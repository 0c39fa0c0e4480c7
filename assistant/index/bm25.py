"""The keyword side of a case: what BM25 indexes for a chunk (its text, its entities' normalised values, numeric dates
spelled out); the index itself is keywords/scoring.py (our own streamed build, bm25s-equal scores)."""

from __future__ import annotations

import json
from typing import Any

from assistant.index.keywords.scoring import Bm25Index
from assistant.text.lexicon import MONTH_NAMES, search_terms
from assistant.types import Entity

__all__ = ["BM25_FORMAT", "Bm25Index", "bm25_text", "bm25_tokenize", "date_words", "entities_from_meta"]

BM25_FORMAT = 6  # bump when bm25_text/bm25_tokenize or the saved layout change: files of other formats are rebuilt
# 6: arrays 64-byte aligned in the file and memory-mapped at load (keywords/mapped.py)


def bm25_tokenize(text: str) -> list[str]:
    """Lower-case unicode words, search stopwords removed, Snowball-stemmed. Digit runs are kept whole."""
    return search_terms(text)


def entities_from_meta(text: str, meta: dict[str, Any]) -> tuple[Entity, ...]:
    raw = json.loads(str(meta.get("entities_json", "[]")))
    return tuple(Entity(type=t, start=s, end=e, text=text[s:e], score=sc, normalized=n) for t, s, e, sc, n in raw)


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _digits(s: str) -> bool:
    return len(s) == 2 and s.isdecimal()


def _iso_dates(text: str) -> list[tuple[str, str, str]]:
    """The ISO regex's findall (see date_words), found from each '-' instead of a regex scan at every position."""
    out: list[tuple[str, str, str]] = []
    i, end = text.find("-", 4), 0
    while i != -1:
        s = i - 4
        if (s >= end and text[s:s + 2] in ("19", "20") and _digits(text[s + 2:i]) and (s == 0 or not _word(text[s - 1]))
                and _digits(text[i + 1:i + 3]) and text[i + 3:i + 4] == "-" and _digits(text[i + 4:i + 6])):
            out.append((text[s:i], text[i + 1:i + 3], text[i + 4:i + 6]))
            end = i + 6
        i = text.find("-", max(i + 1, end))
    return out


def _uk_dates(text: str) -> list[tuple[str, str, str]]:
    """What _UK_DATE.findall returns: d{1,2}/m{1,2}/yyyy, word-bounded both ends, found from each '/'."""
    out: list[tuple[str, str, str]] = []
    i, end = text.find("/"), 0
    while i != -1:
        s = i - 2 if i >= 2 and text[i - 2:i].isdecimal() else i - 1
        ok = s >= end and s >= 0 and text[s:i].isdecimal() and (s == 0 or not _word(text[s - 1]))
        k = i + 2 if text[i + 2:i + 3] == "/" else i + 3
        ok = ok and text[k:k + 1] == "/" and text[i + 1:k].isdecimal()
        if ok and text[k + 1:k + 3] in ("19", "20") and _digits(text[k + 3:k + 5]) and not (
                k + 5 < len(text) and _word(text[k + 5])):
            out.append((text[s:i], text[i + 1:k], text[k + 1:k + 5]))
            end = k + 5
        i = text.find("/", max(i + 1, end))
    return out


def date_words(text: str) -> list[str]:
    """Numeric dates (ISO timestamps, dd/mm/yyyy) spelled out as '14 March 2023', so a question that names the
    month finds a message stamped 2023-03-14T19:02 or a statement that wrote 14/03/2023. Same output as findall of
    the ISO pattern \\b(20|19)dd-dd-dd then of the UK pattern \\bd{1,2}/d{1,2}/(19|20)dd\\b (first seen first, each
    once), but looked for only at each '-' and '/' (tests/test_date_words.py keeps the regex version to compare)."""
    found: dict[str, None] = {}
    for y, m, d in _iso_dates(text):
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    for d, m, y in _uk_dates(text):
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    return list(found)


def bm25_text(text: str, meta: dict[str, Any]) -> str:
    """What BM25 indexes: the chunk text plus its entities' normalised values, so identifiers match across
    written forms (07700 900418 / 07700900418 / +447700900418), plus numeric dates spelled out."""
    from assistant.pii.terms import terms_for_entities

    extra = date_words(text) + terms_for_entities(entities_from_meta(text, meta))
    return text + ("\n" + " ".join(extra) if extra else "")
