"""The keyword index of a case built in one streamed pass: each chunk's indexed text (bm25.bm25_text) is counted into
terms as its page arrives and dropped (keywords/terms.py), so the build holds the case's term counts a block at a time
(keywords/runs.py), never its texts (docs/scale.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.bm25 import bm25_text
from assistant.index.keywords.columns import ColumnsBuilder
from assistant.index.keywords.scoring import BLOCK, Bm25Builder, Bm25Index
from assistant.index.keywords.terms import TermCounter

Postings = Iterator[tuple[np.ndarray, np.ndarray]]


def build_keyword_parts(chunks: Iterable[tuple[str, str, Mapping[str, Any]]],
                        spill_dir: Path | None = None, block: int = BLOCK) -> tuple[Bm25Index, Postings, int]:
    """BM25 over (chunk id, text, metadata) triples, in the order given, with the filter columns of the same rows, as
    `Bm25Builder.finish_parts` gives it: the index without its score matrix, that matrix's (scores, documents) pieces
    in order (persisted.save_bm25_parts writes them to the file as they come) and its number of entries. Sorted runs
    of `block` entries are spilled to a temporary file in `spill_dir`."""
    builder = Bm25Builder(block, spill_dir)
    columns, counter = ColumnsBuilder(), TermCounter(builder.vocab)
    for cid, text, meta in chunks:
        builder.add_ids(cid, *counter.counts(bm25_text(text, dict(meta))))
        columns.add(meta)
    index, pieces, entries = builder.finish_parts()
    index.columns = columns.finish()
    return index, pieces, entries


def build_keywords(chunks: Iterable[tuple[str, str, Mapping[str, Any]]]) -> Bm25Index:
    """The same index whole in memory (benchmarks and small builds)."""
    index, pieces, _ = build_keyword_parts(chunks)
    return index.filled(pieces)
