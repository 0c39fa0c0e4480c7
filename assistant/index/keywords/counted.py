"""A commit batch's keyword terms, counted when the batch is written (ingest.batches.BatchWriter) so that finalize
merges them instead of reading the case back from Chroma and tokenising it again (issue 19, docs/scale.md).

A batch's record holds, for each chunk in write order: its id, its number of terms, its (term, count) entries as ids
of a batch-local vocabulary kept in first-seen order, and the metadata the filter columns read. It is what
`keywords/stream.build_keyword_parts` would derive from the same chunk read back from Chroma (the same `bm25_text`,
the same `TermCounter`, the same EMPTY term for a chunk with no words), so a merge in write order rebuilds the same
index. Encoded as one zlib-compressed buffer: a JSON header (ids, vocabulary, column metadata) and four int32 arrays."""

from __future__ import annotations

import json
import struct
import zlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.index.bm25 import bm25_text
from assistant.index.keywords.scoring import EMPTY
from assistant.index.keywords.terms import TermCounter

COLUMN_KEYS = ("source", "entity_types", "senders", "kind", "ts_start", "ts_end")  # what ColumnsBuilder.add reads
# zlib level 1: a 256-chunk batch of bench_scale's message windows (c10k, 40 batches) packs 136 KB to 30.6 KB in
# 1.3 ms; level 6 gives 26.1 KB for 7.2 ms (load ~6).
LEVEL = 1
_HEAD = struct.Struct("<Q")


@dataclass(frozen=True)
class CountedBatch:
    ids: list[str]
    vocab: list[str]  # batch-local term id -> term, in first-seen order
    columns: list[dict[str, Any]]  # per chunk: the metadata the filter columns read
    lengths: np.ndarray  # per chunk: number of terms
    distinct: np.ndarray  # per chunk: number of (term, count) entries
    terms: np.ndarray  # per entry: batch-local term id, chunks in order
    tfs: np.ndarray  # per entry: count


def count_batch(rows: Iterable[tuple[str, str, Mapping[str, Any]]]) -> bytes:
    """The encoded record of (chunk id, text, stored metadata) rows, in write order."""
    vocab: dict[str, int] = {}
    counter = TermCounter(vocab)
    ids: list[str] = []
    columns: list[dict[str, Any]] = []
    lengths, distinct, terms, tfs = array("i"), array("i"), array("i"), array("i")
    for cid, text, meta in rows:
        counts, length = counter.counts(bm25_text(text, dict(meta)))
        if not counts:  # as Bm25Builder.add_ids: one EMPTY, so the chunk still counts in N and the mean length
            counts, length = {vocab.setdefault(EMPTY, len(vocab)): 1}, 1
        ids.append(cid)
        columns.append({k: meta[k] for k in COLUMN_KEYS if k in meta})
        lengths.append(length)
        distinct.append(len(counts))
        terms.extend(counts)
        tfs.extend(counts.values())
    head = json.dumps({"ids": ids, "vocab": list(vocab), "columns": columns}, ensure_ascii=False).encode("utf-8")
    body = b"".join((_HEAD.pack(len(head)), head, lengths.tobytes(), distinct.tobytes(), terms.tobytes(),
                     tfs.tobytes()))
    return zlib.compress(body, LEVEL)


def decode(blob: bytes) -> CountedBatch:
    body = zlib.decompress(blob)
    (size,) = _HEAD.unpack_from(body)
    head = json.loads(body[_HEAD.size : _HEAD.size + size])
    n = len(head["ids"])
    arrays = np.frombuffer(body, dtype=np.int32, offset=_HEAD.size + size)
    lengths, distinct = arrays[:n], arrays[n : 2 * n]
    entries = (len(arrays) - 2 * n) // 2
    terms, tfs = arrays[2 * n : 2 * n + entries], arrays[2 * n + entries :]
    if int(distinct.sum()) != entries or len(tfs) != entries:
        raise ValueError("keyword batch record does not match its header")
    return CountedBatch(list(head["ids"]), list(head["vocab"]), list(head["columns"]), lengths, distinct, terms, tfs)
