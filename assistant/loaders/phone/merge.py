"""Duplicates across sources merged once, with every provenance kept.

Two records are the same message when they carry the same app message id for the same app (a UFDR and the raw
msgstore.db of the same phone), or, for text exports that have no ids, the same sender, minute and body (the same
chat exported twice, or from both phones). The first record read is kept; the others only add their provenance.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.loaders.phone.records import PhoneRecord


def duplicate_key(record: PhoneRecord) -> tuple[str, ...] | None:
    if record.kind not in ("message", "system"):
        return None
    app = record.source_app.strip().lower()
    if record.app_id:
        return ("id", app, record.app_id)
    if record.timestamp and (record.body or record.attachments):
        minute = record.timestamp[:16]
        return ("text", app, record.sender.strip().lower(), minute, " ".join(record.body.split()),
                "|".join(record.attachments))
    return None


def merge_duplicates(records: Iterable[PhoneRecord]) -> tuple[list[PhoneRecord], int]:
    """(records in first-seen order with duplicates folded in, number of duplicates merged)."""
    kept: list[PhoneRecord] = []
    index: dict[tuple[str, ...], int] = {}
    merged = 0
    for record in records:
        key = duplicate_key(record)
        if key is None:
            kept.append(record)
            continue
        at = index.get(key)
        if at is None:
            index[key] = len(kept)
            kept.append(record)
        else:
            kept[at] = kept[at].with_provenance(*record.provenance)
            merged += 1
    return kept, merged
