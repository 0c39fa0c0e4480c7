"""The keyword side of a case: what BM25 indexes for a chunk (its text, its entities' normalised values, numeric dates
spelled out); the index itself is keywords/scoring.py (our own streamed build, bm25s-equal scores)."""

from __future__ import annotations

import json
import re
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


_ISO_DATE = re.compile(r"\b(20\d\d|19\d\d)-(\d\d)-(\d\d)")
_UK_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")


def date_words(text: str) -> list[str]:
    """Numeric dates (ISO timestamps, dd/mm/yyyy) spelled out as '14 March 2023', so a question that names the
    month finds a message stamped 2023-03-14T19:02 or a statement that wrote 14/03/2023."""
    found: dict[str, None] = {}
    for y, m, d in _ISO_DATE.findall(text) if "-" in text else ():  # each pattern needs its separator: a text
        if 1 <= int(m) <= 12:  # without it is not scanned (~10 us a 400-character chunk each, bench_scale's)
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    for d, m, y in _UK_DATE.findall(text) if "/" in text else ():
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    return list(found)


def bm25_text(text: str, meta: dict[str, Any]) -> str:
    """What BM25 indexes: the chunk text plus its entities' normalised values, so identifiers match across
    written forms (07700 900418 / 07700900418 / +447700900418), plus numeric dates spelled out."""
    from assistant.pii.terms import terms_for_entities

    extra = date_words(text) + terms_for_entities(entities_from_meta(text, meta))
    return text + ("\n" + " ".join(extra) if extra else "")
