"""The keyword index of a case built in one streamed pass: each chunk's indexed text (bm25.bm25_text) is tokenised as
its page arrives and dropped, so the build holds the case's term counts, never its texts (docs/scale.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assistant.index.bm25 import bm25_text, bm25_tokenize
from assistant.index.keywords.columns import ColumnsBuilder
from assistant.index.keywords.scoring import Bm25Builder, Bm25Index


def build_keywords(chunks: Iterable[tuple[str, str, Mapping[str, Any]]]) -> Bm25Index:
    """BM25 over (chunk id, text, metadata) triples, in the order given, with the filter columns of the same rows."""
    builder, columns = Bm25Builder(), ColumnsBuilder()
    for cid, text, meta in chunks:
        builder.add(cid, bm25_tokenize(bm25_text(text, dict(meta))))
        columns.add(meta)
    index = builder.finish()
    index.columns = columns.finish()
    return index
