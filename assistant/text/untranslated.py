"""Messages in another language that have no English translation.

A message export's `translation` column is what gets embedded and answered from (DESIGN.md). A message whose
language (declared by the export, else identified at ingest: `ingest.languages`) is not English and that has no
translation is searched across languages (its original embedded by multilingual-e5-small, the head re-scored by
EmbeddingGemma: index.languages), but never supports an English answer: the extractive answerer skips it and
the verifier does not accept it as evidence. Ingest reports how many a file holds; an answer names the retrieved
ones as "untranslated evidence, not verified", per language, with their ids (never their text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from assistant.text.messages import message_records
from assistant.text.quotes import locate_quote
from assistant.types import Chunk, Passage


def untranslated_spans(passage: Passage) -> set[tuple[int, int]]:
    """(start, end) in the passage text of each untranslated message: never an answer, never evidence."""
    if passage.kind != "messages":
        return set()
    return {(r.start, r.end) for r in message_records(passage.meta) if r.untranslated}


def count_untranslated(chunks: Iterable[Chunk]) -> int:
    """Distinct untranslated messages in message chunks (windows overlap, so a message can sit in several)."""
    seen = {(c.source, r.message_id or str(r.index))
            for c in chunks if c.kind == "messages" for r in message_records(c.meta) if r.untranslated}
    return len(seen)


def untranslated_note(passages: Sequence[Passage], *, max_ids: int = 5) -> str:
    """The answer's note when retrieved messages lack a translation: counts per language and ids, never text."""
    langs: dict[str, int] = {}
    ids: list[str] = []
    seen: set[tuple[str, str]] = set()
    for p in passages:
        if p.kind != "messages":
            continue
        for record in message_records(p.meta):
            key = (p.source, record.message_id or str(record.start))
            if key in seen or not record.untranslated:
                continue
            seen.add(key)
            lang = record.lang or "unknown"
            langs[lang] = langs.get(lang, 0) + 1
            if record.message_id:
                ids.append(record.message_id)
    if not langs:
        return ""
    detail = ", ".join(f"{lang} {n}" for lang, n in sorted(langs.items()))
    named = f"; ids {', '.join(ids[:max_ids])}{' …' if len(ids) > max_ids else ''}" if ids else ""
    return (f"{sum(langs.values())} retrieved message(s) have no English translation ({detail}{named}): untranslated "
            "evidence, not verified. They were found by searching across languages and cannot support an answer "
            "until translated.")


def machine_note(citations: Sequence[tuple[int, str]], passages: Mapping[int, Passage]) -> str:
    """The answer's note when a citation rests on a machine-translated message: the citation numbers and message
    ids, never text. `citations` are (n, quote) keyed to `passages` by n; a quote not found in its passage counts
    every machine-translated message of the passage."""
    hits: list[str] = []
    for n, quote in citations:
        p = passages.get(n)
        if p is None or p.kind != "messages":
            continue
        span = locate_quote(p.text, quote) if quote else None
        start, end = span if span else (-1, -1)
        ids = [r.message_id or "?" for r in message_records(p.meta)
               if r.machine and (start < 0 or (r.start < max(end, start + 1) and start < r.end))]
        if ids:
            hits.append(f"[{n}] (message {', '.join(dict.fromkeys(ids))})")
    if not hits:
        return ""
    return (f"Citation(s) {', '.join(hits)} rest on a machine translation, not verified: its numbers, dates and "
            "names were checked against the original, shown beside it; have it translated before relying on it.")


def ingest_note(untranslated: int) -> str:
    """The ingest note of a file holding `untranslated` messages without an English translation."""
    return (f"{untranslated} message(s) have no English translation: found only by names, identifiers and their own "
            "words, and never used as an answer")
