"""Filters applied per message, not per chunk: a message chunk that passed the chunk-level filter (some message in
its window matches) is cut down to the lines of the messages that match, so "Sender X between two dates" never
hands the answerer another sender's message, or a message outside the dates, from the same window."""

from __future__ import annotations

import json
from dataclasses import replace

from assistant.text.messages import META_KEY, MessageRecord, encode_records, message_records
from assistant.text.quotes import line_span
from assistant.types import Entity, Passage, RetrievalFilters


def message_matches(m: MessageRecord, filters: RetrievalFilters) -> bool:
    """Sender compared case-insensitively; dates on the message's own day (ISO timestamps compare as text)."""
    if filters.sender and m.sender.strip().casefold() != filters.sender.strip().casefold():
        return False
    day = m.timestamp[:10]
    if filters.date_from and (not day or day < filters.date_from):
        return False
    return not (filters.date_to and (not day or day > filters.date_to))


def narrow_passage(passage: Passage, filters: RetrievalFilters | None) -> Passage | None:
    """`passage` holding only the messages that match `filters` (None when none does); prose passages and
    filters without sender/dates are returned unchanged."""
    if filters is None or passage.kind != "messages" or not (filters.sender or filters.date_from or filters.date_to):
        return passage
    records = message_records(passage.meta)
    if not records or any(r.span is None for r in records):
        return passage if not records else None  # offsets unknown: cannot cut safely, so nothing is claimed
    kept = [r for r in records if message_matches(r, filters)]
    if not kept:
        return None
    if len(kept) == len(records):
        return passage
    lines: list[str] = []
    new_records: list[MessageRecord] = []
    entities: list[Entity] = []
    offset = 0
    for r in kept:
        start, end = line_span(passage.text, r.start, r.end, trim=False)
        shift = offset - start
        lines.append(passage.text[start:end])
        new_records.append(replace(r, start=r.start + shift, end=r.end + shift))
        entities += [replace(e, start=e.start + shift, end=e.end + shift) for e in passage.entities
                     if start <= e.start and e.end <= end]
        offset += end - start + 1
    ids = list(dict.fromkeys(r.message_id for r in kept))
    meta = dict(passage.meta)
    meta.update({META_KEY: encode_records(new_records), "senders": ",".join(dict.fromkeys(r.sender for r in kept)),
                 "ts_start": kept[0].timestamp, "ts_end": kept[-1].timestamp, "message_ids": ",".join(ids),
                 "n_messages": len(ids)})
    if "entities_json" in meta:  # same layout as index.store writes: offsets into the (now narrowed) text
        meta["entities_json"] = json.dumps([[e.type, e.start, e.end, round(e.score, 4), e.normalized]
                                            for e in entities])
    device = str(meta.get("device", "")) or "messages"
    msgs = f"msg {ids[0]}" if len(ids) == 1 else f"msgs {', '.join(ids)}"
    locator = f"{device} / thread {kept[0].thread_id} / {msgs} (filtered)"
    return replace(passage, text="\n".join(lines), meta=meta, locator=locator, entities=tuple(entities))
