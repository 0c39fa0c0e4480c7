"""Language of every chunk and message at ingest, stored in the chunk metadata.

A message keeps the language its export declares (`MessageRecord.language`); its body's identified language goes in
`MessageRecord.detected` beside it, never over it. A chunk gets `lang`: the language of its text for prose, the most
common language of its messages' originals for a window (ties: first seen), "" when unknown; and `foreign_langs`:
the non-English languages of its originals, comma-separated ("" when none); and `has_untranslated`: whether
one of them has no English translation (a prose chunk in another language never has one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from assistant.config import LanguageSettings
from assistant.text.lang import identify_many
from assistant.text.messages import ENGLISH, META_KEY, encode_records, message_records
from assistant.types import Chunk


def annotate_languages(chunks: Sequence[Chunk], settings: LanguageSettings) -> list[Chunk]:
    """The chunks with `lang`, `foreign_langs` and `has_untranslated` in their metadata, and each message record's
    `detected` filled."""
    bodies: dict[str, str] = {}  # one identification per distinct body (windows overlap)
    for chunk in chunks:
        for record in message_records(chunk.meta):
            bodies.setdefault(record.body, "")
    prose = [c.text for c in chunks if c.kind != "messages"]
    labels = identify_many([*bodies, *prose], settings.candidates, settings.min_confidence)
    detected = dict(zip(bodies, labels[: len(bodies)], strict=True))
    prose_labels = iter(labels[len(bodies):])
    out: list[Chunk] = []
    for chunk in chunks:
        meta = dict(chunk.meta)
        if chunk.kind == "messages":
            records = [replace(r, detected=detected.get(r.body, "")) for r in message_records(chunk.meta)]
            meta[META_KEY] = encode_records(records)
            langs = [r.lang for r in records if r.lang]
            lang = Counter(langs).most_common(1)[0][0] if langs else ""
            foreign = sorted({r.lang for r in records if r.foreign})
            untranslated = any(r.untranslated for r in records)
        else:
            lang = next(prose_labels)
            foreign = [lang] if lang and lang not in ENGLISH else []
            untranslated = bool(foreign)
        meta["lang"] = lang
        meta["foreign_langs"] = ",".join(foreign)
        meta["has_untranslated"] = untranslated
        out.append(replace(chunk, meta=meta))
    return out
