"""The message model: one record per message line of a message chunk, and the one codec for the JSON kept in a
chunk's `meta["messages"]` (Chroma metadata holds scalars only, so the records travel as a JSON string).

`start`/`end` are the offsets of the message's English text inside the chunk text (-1 when unknown). Decoding is
defensive: absent, malformed or wrongly typed JSON gives no records, an item that is not an object is skipped and a
field of the wrong type takes its default, so a damaged index entry degrades to "no per-message detail" instead of
an error or a wrong record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

Span = tuple[int, int]

ENGLISH = frozenset({"", "en", "eng", "english", "en-gb", "en-us"})
META_KEY = "messages"


@dataclass(frozen=True)
class MessageRecord:
    message_id: str = ""
    thread_id: str = ""
    timestamp: str = ""
    sender: str = ""
    recipient: str = ""
    language: str = ""
    body: str = ""
    translation: str = ""
    device: str = ""
    phone: str = ""  # seized-phone evidence: JSON of a loaders.phone.records.PhoneRecord ("" for CSV/JSONL rows)
    start: int = -1
    end: int = -1
    index: int = -1
    part: str = ""
    detected: str = ""  # ISO 639-1 code identified from the body at ingest (text.lang); "" when unknown
    machine: str = ""  # provenance of a machine translation (assistant.translate); "" for a human one or none

    @property
    def lang(self) -> str:
        """The declared language, else the identified one ("" when neither is known)."""
        return self.language.strip().lower() or self.detected

    @property
    def english(self) -> str:
        """The text that stands in the chunk: the translation when there is one, else the body."""
        return self.translation or self.body

    @property
    def untranslated(self) -> bool:
        """In another language (declared, else identified) with no English translation; no language known counts
        as English."""
        return self.lang not in ENGLISH and not self.translation.strip()

    @property
    def foreign(self) -> bool:
        """The original body is in another language than English (translated or not)."""
        return self.lang not in ENGLISH and bool(self.body.strip())

    @property
    def span(self) -> Span | None:
        return (self.start, self.end) if 0 <= self.start < self.end else None


_TYPES = {f.name: (int if f.name in ("start", "end", "index") else str) for f in fields(MessageRecord)}


def _record(item: Mapping[str, Any]) -> MessageRecord:
    values: dict[str, Any] = {}
    for name, kind in _TYPES.items():
        value = item.get(name)
        if isinstance(value, kind) and not isinstance(value, bool):
            values[name] = value
    return MessageRecord(**values)


def decode_records(raw: object) -> tuple[MessageRecord, ...]:
    """The records of a JSON string as stored in `meta["messages"]`; () when absent or malformed."""
    if not isinstance(raw, str):
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(_record(item) for item in items if isinstance(item, dict))


def encode_records(records: Iterable[MessageRecord]) -> str:
    return json.dumps([asdict(r) for r in records], ensure_ascii=False)


def message_records(meta: Mapping[str, Any]) -> tuple[MessageRecord, ...]:
    """The records of a message chunk's metadata; () for prose chunks and damaged entries."""
    return decode_records(meta.get(META_KEY))


def message_spans(meta: Mapping[str, Any]) -> list[Span]:
    """Offsets of each message's English text in the chunk text, for records that carry valid ones."""
    return [r.span for r in message_records(meta) if r.span is not None]
