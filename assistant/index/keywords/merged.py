"""Finalize's keyword build from the terms counted at ingest (keywords/counted.py, kept by keywords/ledger.py): the
records of the served versions' live chunks are merged in commit order (Chroma's order of the same writes), their
batch-local vocabularies mapped into the build's in first-seen order, so the index equals the one
`keywords/stream.build_keyword_parts` builds from the case read back from Chroma, without that read.

A served chunk without a record (an index written before this change, a record lost to a crash between the Chroma
write and its record, a writer that keeps none) is read from Chroma and counted as before, by id: a version whose
members do not number its manifest count has its ids listed (ids only) and only the missing ones are read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.bm25 import bm25_text
from assistant.index.keywords.columns import ColumnsBuilder
from assistant.index.keywords.counted import decode
from assistant.index.keywords.ledger import TermLedger
from assistant.index.keywords.scoring import BLOCK, Bm25Builder, Bm25Index
from assistant.index.keywords.stream import build_keyword_parts
from assistant.index.keywords.terms import TermCounter
from assistant.perms import private_dir

Postings = Iterator[tuple[np.ndarray, np.ndarray]]


def case_keyword_parts(store: Any, case: str) -> tuple[Bm25Index, Postings, int]:
    """The keyword build of a case (an index.store.IndexStore) at finalize: merged from its ledger, else (no record of
    any served version: an index from before the ledger) one streamed pass over the case read from Chroma."""
    from assistant.index.store import READ_PAGE  # the store imports this module

    spill = private_dir(store.index_dir / "bm25")
    served = {source: (row.sha256, row.n_chunks) for source, row in store.manifest.served(case).items()}
    col = store.side_collection(case, "")
    merged = merged_parts(TermLedger(store.index_dir, case), served, col, READ_PAGE, spill)
    if merged is not None:
        return merged
    return build_keyword_parts(((c.chunk_id, c.text, c.meta) for c in store.iter_chunks(case)), spill)


def merged_parts(ledger: TermLedger, served: Mapping[str, tuple[str, int]], col: Any, page: int,
                 spill_dir: Path | None = None, block: int = BLOCK) -> tuple[Bm25Index, Postings, int] | None:
    """As build_keyword_parts, from the ledger's records of the served versions (source -> (sha256, chunks)) and
    the Chroma collection `col` for chunks without one; None when the ledger holds none of them (then the case is
    read from Chroma as before)."""
    by_version = ledger.members({source: sha for source, (sha, _) in served.items()})
    if not any(by_version.values()):
        return None
    missing: list[str] = []
    for source, (sha, n_chunks) in served.items():
        held = by_version.get(source, {})
        if held and len(held) != n_chunks:  # some chunks without a record: the version's ids say which
            stored = version_ids(col, source, sha, page)
            by_version[source] = {cid: held[cid] for cid in stored if cid in held}
            missing.extend(cid for cid in stored if cid not in held)
        elif not held:
            missing.extend(version_ids(col, source, sha, page))
    members = {cid: seq for held in by_version.values() for cid, seq in held.items()}
    builder, columns = Bm25Builder(block, spill_dir), ColumnsBuilder()
    vocab = builder.vocab
    for seq, blob in ledger.records(set(members.values())):
        rec = decode(blob)
        live = np.fromiter((members.get(cid) == seq for cid in rec.ids), dtype=bool, count=len(rec.ids))
        if not live.any():
            continue
        kept = np.repeat(live, rec.distinct)
        terms, tfs = rec.terms[kept], rec.tfs[kept]
        used, first = np.unique(terms, return_index=True)
        to_build = np.full(len(rec.vocab), -1, dtype=np.int32)
        for local in used[np.argsort(first, kind="stable")].tolist():  # first-seen order among the live chunks
            to_build[local] = vocab.setdefault(rec.vocab[local], len(vocab))
        rows = np.flatnonzero(live).tolist()
        builder.add_block([rec.ids[n] for n in rows], rec.lengths[live], rec.distinct[live], to_build[terms], tfs)
        for n in rows:
            columns.add(rec.columns[n])
    counter = TermCounter(vocab)
    for cid, text, meta in stored_rows(col, missing, page):  # counted as the streamed build does
        builder.add_ids(cid, *counter.counts(bm25_text(text, dict(meta))))
        columns.add(meta)
    index, pieces, entries = builder.finish_parts()
    index.columns = columns.finish()
    return index, pieces, entries


def version_ids(col: Any, source: str, sha: str, page: int) -> list[str]:
    """Every chunk id Chroma holds of one version, read in pages of ids only."""
    return [cid for ids in version_id_pages(col, source, sha, page) for cid in ids]


def version_id_pages(col: Any, source: str, sha: str, page: int) -> Iterator[list[str]]:
    """One version's chunk ids as Chroma holds them, a page of ids only at a time (nothing may be deleted meanwhile)."""
    where = {"$and": [{"source": source}, {"source_hash": sha}]}
    offset = 0
    while True:
        ids = list(col.get(where=where, include=[], limit=page, offset=offset)["ids"])
        yield ids
        if len(ids) < page:
            return
        offset += page


def stored_rows(col: Any, ids: list[str], page: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for start in range(0, len(ids), page):
        got = col.get(ids=ids[start : start + page], include=["documents", "metadatas"])
        for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            yield cid, doc or "", dict(meta or {})
