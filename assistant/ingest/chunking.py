"""Documents -> Chunks with exact provenance, sized in the embedding model's own wordpieces.

Prose: each page (or the whole text) is cut into spans of at most `token_budget(settings)` wordpieces, cutting at
the best boundary in the second half of the window (blank line > line break > sentence end > word gap > inside a
word), with `chunk_overlap_tokens` overlap that starts on a word. Spans come from the tokenizer's offset mapping,
so `chunk.text == doc.text[chunk.start:chunk.end]`, and every chunk is re-counted so none exceeds the budget.

Messages: windows of `message_window` messages of one thread (threads are never mixed), `message_overlap` shared.
A window over budget is split between messages; one over-long message is split by tokens into parts that keep its
id. See `chunk_document` for the message chunk layout and `message_at` to resolve an offset to its message.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.config import Settings
from assistant.ingest.tokenizer import count_tokens, token_offsets
from assistant.text.messages import MessageRecord, encode_records
from assistant.text.messages import message_records as records_of_meta
from assistant.text.quotes import line_span
from assistant.types import Chunk, Document, Message

log = logging.getLogger(__name__)

_SENTENCE_END = (".", "!", "?", "…")
_CLOSERS = "\"')]’”»"
_NEWLINES = re.compile(r"\s*\n\s*")


def token_budget(settings: Settings) -> int:
    """Most wordpieces per chunk: chunk_tokens, capped so [CLS] + chunk + [SEP] fits max_seq_length."""
    cap = settings.embedding.max_seq_length - 2
    budget = min(settings.embedding.chunk_tokens, cap)
    if budget < settings.embedding.chunk_tokens:
        log.warning("chunk_tokens=%d exceeds max_seq_length-2=%d; using %d", settings.embedding.chunk_tokens, cap,
                    budget)
    return max(8, budget)


def chunk_id(case: str, source: str, n: int, sha256: str = "") -> str:
    """Stable id of the n-th chunk of one version (content hash) of a source: a changed file gets new ids."""
    return f"{case}:{hashlib.sha1(source.encode('utf-8')).hexdigest()[:10]}:{sha256[:12]}:{n:04d}"


def chunk_document(doc: Document, case: str, tokenizer: Any, settings: Settings) -> list[Chunk]:
    """Cut one document into chunks (deterministic: same input, same ids and texts).

    Prose chunks: `start`/`end` are char offsets into `doc.text`; meta = page (0 when unpaged), line_start, line_end
    (1-based, counted within the page); locator "p. 2, lines 14–31" or "lines 14–31".

    Message chunks: `text` has one line per message, "[timestamp] sender → recipient: english" (the translation when
    there is one; the original stays in meta). `start`/`end` are NOT char offsets here: they are the index in
    `doc.messages` of the first message and of the last message + 1. meta = thread_id, device, ts_start, ts_end,
    senders, message_ids (comma-joined), n_messages, translated, and `messages`: a JSON list of records
    {message_id, thread_id, timestamp, sender, recipient, language, body, translation, device, start, end, index,
    part} where start/end locate that message's English text in `chunk.text`.
    """
    budget = token_budget(settings)
    if doc.messages:
        spans = _message_chunks(doc, tokenizer, settings, budget)
    else:
        overlap = max(0, min(settings.embedding.chunk_overlap_tokens, budget // 2))
        spans = _prose_chunks(doc, tokenizer, budget, overlap)
    chunks = [
        Chunk(chunk_id=chunk_id(case, doc.source, n, doc.sha256), case=case, source=doc.source, locator=s.locator,
              text=s.text, start=s.start, end=s.end, content_hash=hashlib.sha256(s.text.encode("utf-8")).hexdigest(),
              source_hash=doc.sha256, kind=doc.kind, meta=s.meta)
        for n, s in enumerate(spans)
    ]
    log.debug("chunked sha256=%s kind=%s chunks=%d budget=%d", doc.sha256[:12], doc.kind, len(chunks), budget)
    return chunks


@dataclass(frozen=True)
class _Span:
    text: str
    start: int
    end: int
    locator: str
    meta: dict[str, str | int | float | bool]


# ---------------------------------------------------------------- prose


def split_by_tokens(text: str, tokenizer: Any, budget: int, overlap: int, lo: int = 0,
                    hi: int | None = None) -> list[tuple[int, int]]:
    """(start, end) char spans of `text[lo:hi]`, each at most `budget` wordpieces when re-tokenized on its own."""
    hi = len(text) if hi is None else hi
    offsets = [(s + lo, e + lo) for s, e in token_offsets(tokenizer, text[lo:hi]) if e > s]
    spans: list[tuple[int, int]] = []
    n, i = len(offsets), 0
    while i < n:
        k = n if n - i <= budget else _best_cut(text, offsets, i, i + budget)
        start, end = offsets[i][0], offsets[k - 1][1]
        excess = count_tokens(tokenizer, text[start:end]) - budget
        while excess > 0 and k - i > 1:  # re-tokenizing a cut word can cost more pieces: shrink until it fits
            k = _best_cut(text, offsets, i, max(i + 1, k - excess))
            end = offsets[k - 1][1]
            excess = count_tokens(tokenizer, text[start:end]) - budget
        if excess > 0:
            log.warning("one wordpiece span exceeds the chunk budget excess=%d", excess)
        spans.append((start, end))
        if k >= n:
            break
        nxt = max(i + 1, k - overlap)
        while nxt < k and offsets[nxt][0] == offsets[nxt - 1][1]:  # start the overlap on a word
            nxt += 1
        i = nxt
    return spans


def _best_cut(text: str, offsets: Sequence[tuple[int, int]], i: int, j: int) -> int:
    """Token index k in (i, j] to cut before: the strongest boundary in the second half, the latest on ties."""
    if j >= len(offsets):
        return len(offsets)
    best_k, best_level = j, -1
    for k in range(j, i + max(1, (j - i) // 2) - 1, -1):
        if k <= i:
            break
        level = _boundary_level(text, offsets[k - 1][1], offsets[k][0])
        if level > best_level:
            best_k, best_level = k, level
            if level == 4:
                break
    return best_k


def _boundary_level(text: str, prev_end: int, next_start: int) -> int:
    gap = text[prev_end:next_start]
    if not gap:
        return 0
    newlines = gap.count("\n")
    if newlines >= 2:
        return 4
    if newlines == 1:
        return 3
    if text[max(0, prev_end - 4):prev_end].rstrip(_CLOSERS).endswith(_SENTENCE_END):
        return 2
    return 1


def _prose_chunks(doc: Document, tokenizer: Any, budget: int, overlap: int) -> list[_Span]:
    text, ocr = doc.text, dict(doc.ocr_pages)
    newlines = [m.start() for m in re.finditer("\n", text)]
    segments = list(doc.pages) or [(0, 0, len(text))]
    spans: list[_Span] = []
    for page, seg_start, seg_end in segments:
        first_line = bisect.bisect_left(newlines, seg_start)
        for start, end in split_by_tokens(text, tokenizer, budget, overlap, seg_start, seg_end):
            line_start = bisect.bisect_left(newlines, start) - first_line + 1
            line_end = bisect.bisect_left(newlines, end - 1) - first_line + 1
            lines = f"line {line_start}" if line_start == line_end else f"lines {line_start}–{line_end}"
            locator = f"p. {page}, {lines}" if page else lines
            meta: dict[str, str | int | float | bool] = {"page": page, "line_start": line_start, "line_end": line_end,
                                                         **({"ocr_confidence": ocr[page]} if page in ocr else {})}
            spans.append(_Span(text[start:end], start, end, locator, meta))
    return spans


# ---------------------------------------------------------------- messages


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
    parts = split_by_tokens(english, tokenizer, part_budget, 0)
    return [_Line(index, message, prefix, english[s:e], f"{n}/{len(parts)}",
                  prefix_tokens + count_tokens(tokenizer, english[s:e]))
            for n, (s, e) in enumerate(parts, start=1)]


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


def _message_chunks(doc: Document, tokenizer: Any, settings: Settings, budget: int) -> list[_Span]:
    threads: dict[str, list[int]] = {}
    for index, message in enumerate(doc.messages):
        threads.setdefault(message.thread_id, []).append(index)
    lines_of: dict[int, list[_Line]] = {}
    spans: list[_Span] = []
    for indices in threads.values():
        seen: set[tuple[tuple[int, str], ...]] = set()
        for a, b in _windows(len(indices), settings.chunking.message_window, settings.chunking.message_overlap):
            lines: list[_Line] = []
            for index in indices[a:b]:
                if index not in lines_of:
                    lines_of[index] = _message_lines(index, doc.messages[index], tokenizer, budget)
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


def _render(group: list[_Line]) -> _Span:
    parts: list[str] = []
    records: list[MessageRecord] = []
    offset = 0
    for line in group:
        m = line.message
        start = offset + len(line.prefix)
        records.append(MessageRecord(
            message_id=m.message_id, thread_id=m.thread_id, timestamp=m.timestamp, sender=m.sender,
            recipient=m.recipient, language=m.language, body=m.body, translation=m.translation, device=m.device,
            phone=m.phone, start=start, end=start + len(line.english), index=line.index, part=line.part))
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
    meta: dict[str, str | int | float | bool] = {
        "thread_id": first.thread_id, "device": device, "ts_start": first.timestamp, "ts_end": last.timestamp,
        "senders": ",".join(senders), "message_ids": ",".join(ids), "n_messages": len(ids),
        "translated": any(line.message.translation for line in group),
        "messages": encode_records(records),
    }
    return _Span(text, group[0].index, group[-1].index + 1, locator, meta)


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
