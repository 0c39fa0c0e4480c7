"""Documents -> Chunks with exact provenance, sized in the embedding model's own wordpieces.

Prose (`assistant.ingest.prose`): each page (or the whole text) is cut into runs of whole sentences of at most
`token_budget(settings)` wordpieces, overlapping by whole sentences; only a single sentence over the budget is cut
(at a word gap, noted in meta as `cut_sentence`). `chunk.text == doc.text[chunk.start:chunk.end]`.

Messages (`assistant.ingest.message_chunks`): windows of messages of one thread; a message is never cut between
chunks except one over-long message, split into parts that keep its id.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from assistant.config import Settings
from assistant.ingest.message_chunks import message_at, message_records, message_spans, messages_in_span
from assistant.ingest.prose import prose_spans
from assistant.types import Chunk, Document

__all__ = ["chunk_document", "chunk_id", "message_at", "message_records", "messages_in_span", "token_budget"]

log = logging.getLogger(__name__)


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


def chunk_document(doc: Document, case: str, tokenizer: Any, settings: Settings, *, offset: int = 0,
                   first: int = 0) -> list[Chunk]:
    """Cut one document into chunks (deterministic: same input, same ids and texts). A slice of whole threads of a
    message document (`assistant.ingest.slices`) passes `offset`, the index of its first message in the whole
    document, and `first`, the number of chunks the slices before it made: its chunks are then exactly those the whole
    document makes for its threads.

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
        spans = message_spans(doc, tokenizer, settings, budget, offset)
    else:
        overlap = max(0, min(settings.embedding.chunk_overlap_tokens, budget // 2))
        spans = prose_spans(doc, tokenizer, budget, overlap)
    chunks = [
        Chunk(chunk_id=chunk_id(case, doc.source, first + n, doc.sha256), case=case, source=doc.source,
              locator=s.locator, text=s.text, start=s.start, end=s.end,
              content_hash=hashlib.sha256(s.text.encode("utf-8")).hexdigest(), source_hash=doc.sha256, kind=doc.kind,
              meta=s.meta)
        for n, s in enumerate(spans)
    ]
    log.debug("chunked sha256=%s kind=%s chunks=%d budget=%d", doc.sha256[:12], doc.kind, len(chunks), budget)
    return chunks


