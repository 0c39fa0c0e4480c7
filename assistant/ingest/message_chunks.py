"""Message chunks: windows of `message_window` messages of one thread (threads are never mixed), `message_overlap`
shared. A window over budget is split between messages; one over-long message is split into parts that keep its id,
cut between its sentences (a single over-long sentence at word gaps). See `chunk_document` for the layout and
`message_at` to resolve an offset to its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.ingest.prose import ChunkSpan, Meta, sentence_pieces
from assistant.ingest.tokenizer import count_tokens
from assistant.text.messages import MessageRecord, encode_records
from assistant.text.messages import message_records as records_of_meta
from assistant.text.quotes import line_span
from assistant.types import Chunk, Document, Message

_NEWLINES = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class _Line:
    index: int  # position in doc.messages
    message: Message
    prefix: str
    english: str  # this line's (part of the) English text, one line
    part: str  # "k/n" for a split message, "" otherwise
    tokens: int


def _message_lines(index: int, message: Message, tokenizer: Any, budget: int) -> list[_Line]:
    arrow = f" → {message.recipient}" if message.recipient else ""
    prefix = f"[{message.timestamp}] {message.sender}{arrow}: "
    english = _NEWLINES.sub(" ", message.english).strip()
    prefix_tokens = count_tokens(tokenizer, prefix)
    tokens = prefix_tokens + count_tokens(tokenizer, english)
    if tokens <= budget:
        return [_Line(index, message, prefix, english, "", tokens)]
    part_budget = max(8, budget - prefix_tokens)
    parts = sentence_pieces(english, tokenizer, part_budget, 0)
    return [_Line(index, message, prefix, english[p.start:p.end], f"{n}/{len(parts)}",
                  prefix_tokens + count_tokens(tokenizer, english[p.start:p.end]))
            for n, p in enumerate(parts, start=1)]


def _windows(count: int, size: int, overlap: int) -> list[tuple[int, int]]:
    size = max(1, size)
    step = max(1, size - max(0, overlap))
    bounds: list[tuple[int, int]] = []
    start = 0
    while True:
        bounds.append((start, min(count, start + size)))
        if start + size >= count:
            return bounds
        start += step


def message_spans(doc: Document, tokenizer: Any, settings: Settings, budget: int,
                  offset: int = 0) -> list[ChunkSpan]:
    """`offset`: where `doc.messages` starts in the whole document when it is one slice of whole threads of it
    (`assistant.ingest.slices`): the spans' message indices are the whole document's."""
    threads: dict[str, list[int]] = {}
    for index, message in enumerate(doc.messages):
        threads.setdefault(message.thread_id, []).append(index)
    lines_of: dict[int, list[_Line]] = {}
    spans: list[ChunkSpan] = []
    for indices in threads.values():
        seen: set[tuple[tuple[int, str], ...]] = set()
        for a, b in _windows(len(indices), settings.chunking.message_window, settings.chunking.message_overlap):
            lines: list[_Line] = []
            for index in indices[a:b]:
                if index not in lines_of:
                    lines_of[index] = _message_lines(offset + index, doc.messages[index], tokenizer, budget)
                lines.extend(lines_of[index])
            for group in _pack(lines, budget):
                key = tuple((line.index, line.part) for line in group)
                if key not in seen:  # split windows can repeat a group of the previous window
                    seen.add(key)
                    spans.append(_render(group))
    return spans


def _pack(lines: list[_Line], budget: int) -> list[list[_Line]]:
    """Consecutive lines grouped so each group's wordpieces stay within budget (lines never cut here)."""
    groups: list[list[_Line]] = [[]]
    used = 0
    for line in lines:
        if groups[-1] and used + line.tokens > budget:
            groups.append([])
            used = 0
        groups[-1].append(line)
        used += line.tokens
    return groups


def _render(group: list[_Line]) -> ChunkSpan:
    parts: list[str] = []
    records: list[MessageRecord] = []
    offset = 0
    for line in group:
        m = line.message
        start = offset + len(line.prefix)
        records.append(MessageRecord(
            message_id=m.message_id, thread_id=m.thread_id, timestamp=m.timestamp, sender=m.sender,
            recipient=m.recipient, language=m.language, body=m.body, translation=m.translation, device=m.device,
            phone=m.phone, machine=m.machine, start=start, end=start + len(line.english), index=line.index,
            part=line.part))
        parts.append(line.prefix + line.english)
        offset += len(parts[-1]) + 1
    text = "\n".join(parts)
    first, last = group[0].message, group[-1].message
    ids = list(dict.fromkeys(line.message.message_id for line in group))
    devices = list(dict.fromkeys(line.message.device for line in group if line.message.device))
    senders = list(dict.fromkeys(line.message.sender for line in group))
    device = ",".join(devices)
    msgs = f"msg {ids[0]}" if len(ids) == 1 else f"msgs {ids[0]}–{ids[-1]}"
    if len(ids) == 1 and group[0].part:
        parts_note = group[0].part if len(group) == 1 else f"{group[0].part}–{group[-1].part}"
        msgs += f" (part {parts_note})"
    when = first.timestamp if first.timestamp == last.timestamp else f"{first.timestamp} – {last.timestamp}"
    locator = f"{device or 'messages'} / thread {first.thread_id} / {msgs} / {when}"
    meta: Meta = {
        "thread_id": first.thread_id, "device": device, "ts_start": first.timestamp, "ts_end": last.timestamp,
        "senders": ",".join(senders), "message_ids": ",".join(ids), "n_messages": len(ids),
        "translated": any(line.message.translation for line in group),
        "messages": encode_records(records),
    }
    return ChunkSpan(text, group[0].index, group[-1].index + 1, locator, meta)


def message_records(chunk: Chunk) -> tuple[MessageRecord, ...]:
    """The message records of a message chunk (() for prose chunks)."""
    return records_of_meta(chunk.meta)


def messages_in_span(chunk: Chunk, start: int, end: int) -> list[MessageRecord]:
    """Records of every message whose line in `chunk.text` overlaps [start, end) (e.g. a quote's span).
    A line owns its trailing newline; an empty span counts as the one character at `start`."""
    end = max(end, start + 1)
    found: list[MessageRecord] = []
    for record in message_records(chunk):
        line_start, line_end = line_span(chunk.text, record.start, record.end, trim=False)
        if start <= line_end and end > line_start:
            found.append(record)
    return found


def message_at(chunk: Chunk, offset: int) -> MessageRecord | None:
    """The record of the message whose line in `chunk.text` covers `offset` (None for prose or out of range)."""
    if offset < 0 or offset >= len(chunk.text):
        return None
    hits = messages_in_span(chunk, offset, offset + 1)
    return hits[0] if hits else None
