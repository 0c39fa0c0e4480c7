"""Persistent index: one Chroma collection per case, a BM25 index beside it, and the ingest manifest (`index.manifest`)
that makes re-ingest incremental and crash-safe. A new version of a source is written beside the served one (ids and
metadata carry its sha256), swapped in by one manifest transaction, then the old one is deleted; every read serves only
the manifest's versions, so a crash never shows half a source or two (docs/architecture.md, "Integrity")."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import IndexSettings
from assistant.errors import AssistantError
from assistant.index.bm25 import Bm25Index
from assistant.index.client import ChromaHandle
from assistant.index.keywords.ledger import TermLedger
from assistant.index.keywords.merged import case_keyword_parts
from assistant.index.keywords.pages import read_pages
from assistant.index.keywords.stream import build_keywords
from assistant.index.lru import LruCache
from assistant.index.manifest import SourceRow, open_manifest
from assistant.index.persisted import Stamp, load_bm25, load_chunks, save_bm25_parts, save_chunks, stamp_of
from assistant.perms import private_dir
from assistant.types import Chunk

log = logging.getLogger(__name__)

READ_PAGE = 5_000  # chunks per Chroma read; well under SQLite's 32,766 query variables
TEXT_PAGE = 1_000  # chunks per read with texts: a page of phone windows with metadata is ~30 KB a chunk in memory
CATALOG_CACHE_CASES = 4  # default LRU capacity; see RetrievalSettings.catalog_cache_cases for the measurement
CASE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_case_id(case: str) -> str:
    if not CASE_ID_RE.match(case):
        raise AssistantError(
            f"invalid case id {case!r}: use lower-case letters, digits, '-' or '_' (max 63 characters)")
    return case


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    meta: dict[str, Any]


def chunk_metadata(chunk: Chunk) -> dict[str, str | int | float | bool | list[str]]:
    """Flatten a chunk into Chroma-legal metadata (scalars and non-empty single-type lists only)."""
    meta: dict[str, str | int | float | bool | list[str]] = {
        "case": chunk.case, "source": chunk.source, "locator": chunk.locator, "kind": chunk.kind,
        "start": chunk.start, "end": chunk.end, "content_hash": chunk.content_hash,
        "source_hash": chunk.source_hash,
        "entities_json": json.dumps([[e.type, e.start, e.end, round(e.score, 4), e.normalized]
                                     for e in chunk.entities]),
    }
    types = sorted({e.type for e in chunk.entities})
    if types:
        meta["entity_types"] = types
    for key, value in chunk.meta.items():
        if key not in meta:
            meta[key] = value
    return meta


class IndexStore:
    """Chroma (embedded or a server: index.client) + manifest (SQLite or PostgreSQL) + in-memory BM25/catalog caches."""

    def __init__(self, index_dir: Path, catalog_cache_cases: int = CATALOG_CACHE_CASES,
                 chroma: IndexSettings | None = None) -> None:
        self.index_dir = private_dir(index_dir)
        self._chroma = ChromaHandle(index_dir, chroma)
        self.manifest = open_manifest(index_dir, chroma)  # manifest.sqlite, or PostgreSQL
        self._lock = threading.RLock()
        self._catalogs: LruCache[str, tuple[Stamp, dict[str, StoredChunk], Bm25Index]] = LruCache(catalog_cache_cases)
        self._keywords: LruCache[str, tuple[Stamp, Bm25Index]] = LruCache(catalog_cache_cases)

    # ---- manifest -------------------------------------------------------------------------------------------
    def list_cases(self) -> list[str]:
        return self.manifest.list_cases()

    def has_case(self, case: str) -> bool:
        return self.manifest.has_case(case)

    def generation(self, case: str) -> int:
        return self.manifest.generation(case)

    def stamp(self, case: str) -> Stamp:
        """What a derived index of this case must carry to be current: format, generation, manifest digest."""
        return stamp_of(self.manifest.generation(case), self.manifest.digest(case))

    def source_state(self, case: str, source: str) -> SourceRow | None:
        """The served version of a source (sha256, origin, chunk count), None when the case does not serve it."""
        return self.manifest.served(case).get(source)

    def sources(self, case: str) -> list[tuple[str, int, str]]:
        """(source, chunks, status) for every served and in-flight version, served first."""
        served = [(r.source, r.n_chunks, "complete") for r in self.manifest.served(case).values()]
        return served + [(r.source, r.n_chunks, "pending") for r in self.manifest.pending(case)]

    def _collection(self, case: str, space: str = "") -> Any:
        """The case's collection (or a second vector space: "ml", index.languages), after reopening the client
        if another process wrote the case (index.client)."""
        self._chroma.current(check_case_id(case), self.manifest.generation(case))
        return self._chroma.space(case, space) if space else self._chroma.collection(case)

    def _read(self, case: str, op: Callable[[Any], Any]) -> Any:
        from chromadb.errors import NotFoundError  # `op` on the kept collection; on a fresh one if the server lost it
        self._chroma.current(check_case_id(case), self.manifest.generation(case))
        try:
            return op(self._chroma.reader(case))
        except NotFoundError:
            self._chroma.forget(case)
            return op(self._chroma.reader(case))

    def side_collection(self, case: str, space: str) -> Any:
        return self._collection(case, space)

    def existing_side_collection(self, case: str, space: str) -> Any | None:
        """A second vector space for reading or deleting: None when the case never had one (never created here)."""
        self._chroma.current(check_case_id(case), self.manifest.generation(case))
        return self._chroma.existing_space(case, space)

    def wrote(self, case: str) -> None:
        """This process moved the case (its own Chroma client holds the change)."""
        self._chroma.wrote(case, self.manifest.generation(case))

    # ---- writes (callers hold the case lock: manifest.case_lock); a version is written by ingest.batches -------
    def remove_source(self, case: str, source: str) -> int:
        """Delete every version of a source from Chroma and the manifest; returns the chunks deleted."""
        with self._lock:
            col = self._collection(case)
            ids = col.get(where={"source": source}, include=[])["ids"]
            self.manifest.drop(case, source)
            self.wrote(case)
            TermLedger(self.index_dir, case).drop(source)
            for start in range(0, len(ids), READ_PAGE):
                col.delete(ids=ids[start : start + READ_PAGE])
        return len(ids)

    def delete_chunks(self, case: str, chunk_ids: Sequence[str]) -> None:
        """Drop chunks by id (fsck --repair: orphans and leftovers of crashed writes)."""
        col = self._collection(case)
        TermLedger(self.index_dir, case).forget(chunk_ids)
        for start in range(0, len(chunk_ids), READ_PAGE):
            col.delete(ids=list(chunk_ids[start : start + READ_PAGE]))

    def census(self, case: str) -> dict[tuple[str, str], list[str]]:
        """Every chunk id in Chroma grouped by (source, sha256), served or not (for fsck)."""
        out: dict[tuple[str, str], list[str]] = {}
        for cid, chunk in self._read_chunks(case, texts=False, every=True):
            key = (str(chunk.meta.get("source", "")), str(chunk.meta.get("source_hash", "")))
            out.setdefault(key, []).append(cid)
        return out

    # ---- reads: served versions only ---------------------------------------------------------------------
    def _served_hashes(self, case: str) -> dict[str, str]:
        return {src: row.sha256 for src, row in self.manifest.served(case).items()}

    @staticmethod
    def _is_served(meta: dict[str, Any] | None, served: dict[str, str]) -> bool:
        sha = served.get(str((meta or {}).get("source", "")))  # a deleted chunk comes back with no metadata
        return sha is not None and sha == (meta or {}).get("source_hash")

    def catalog(self, case: str) -> tuple[dict[str, StoredChunk], Bm25Index]:
        """Every served chunk (texts too) and the BM25 index, for readers of a whole case (links, timeline); cached per
        stamp (LRU) and persisted. A question never needs it: `keyword_index`, then `get_chunks` of the top hits."""
        stamp = self.stamp(check_case_id(case))
        with self._lock:
            cached = self._catalogs.get(case)
            if cached and cached[0] == stamp:
                return cached[1], cached[2]
            bm25 = self.keyword_index(case)
            stored = load_chunks(self.index_dir, case, stamp)
            if stored is None:
                chunks = dict(self._read_chunks(case))
                save_chunks(self.index_dir, case, stamp, {cid: (c.text, c.meta) for cid, c in chunks.items()})
                log.info("catalog built case=%s generation=%d chunks=%d", case, stamp[1], len(chunks))
            else:
                chunks = {cid: StoredChunk(cid, text, meta) for cid, (text, meta) in stored.items()}
            if evicted := self._catalogs.put(case, (stamp, chunks, bm25)):
                log.info("catalog cache evicted cases=%s", ",".join(evicted))
            return chunks, bm25

    def keyword_index(self, case: str) -> Bm25Index:
        """The case's BM25 index alone (what a question needs): cached, else loaded, else built (keywords/merged.py)."""
        stamp = self.stamp(check_case_id(case))
        with self._lock:
            keyed = self._keywords.get(case)
            if keyed and keyed[0] == stamp:
                return keyed[1]
            bm25 = load_bm25(self.index_dir, case, stamp)
            if bm25 is None:  # built into its file a block and a range of terms at a time, then mapped from it
                built, pieces, entries = case_keyword_parts(self, case)  # from the terms counted at ingest
                save_bm25_parts(self.index_dir, case, stamp, built, pieces, entries)
                bm25 = load_bm25(self.index_dir, case, stamp)  # None if another process replaced it meanwhile:
                if bm25 is None:  # then built again in memory, as before (never an index without its scores)
                    bm25 = build_keywords((cid, c.text, c.meta) for cid, c in self._read_chunks(case))
                log.info("keyword index built case=%s generation=%d chunks=%d", case, stamp[1], len(bm25.ids))
            self._keywords.put(case, (stamp, bm25))
            return bm25

    def get_chunks(self, case: str, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The named served chunks (others left out): from the cached catalog when current, else point reads."""
        stamp = self.stamp(check_case_id(case))
        with self._lock:
            cached = self._catalogs.get(case)
            if cached and cached[0] == stamp:
                return {cid: cached[1][cid] for cid in chunk_ids if cid in cached[1]}
        served = self._served_hashes(case)
        out: dict[str, StoredChunk] = {}
        for start in range(0, len(chunk_ids), READ_PAGE):
            got = self._read(case, lambda col: col.get(ids=list(chunk_ids[start : start + READ_PAGE]),  # noqa: B023
                                                       include=["documents", "metadatas"]))
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                if self._is_served(meta, served):
                    out[cid] = StoredChunk(cid, doc or "", dict(meta or {}))
        return out

    def finalize(self, case: str) -> int:  # end of an ingest: the first question then only loads the keyword index
        return len(self.keyword_index(case).ids)

    def cached_cases(self) -> list[str]:  # cases with a whole catalog (texts) in memory, least recently used first
        with self._lock:
            return self._catalogs.keys()

    def cached_keywords(self) -> list[str]:  # cases with a keyword index in memory, least recently used first
        with self._lock:
            return self._keywords.keys()

    def get_chunk(self, case: str, chunk_id: str) -> StoredChunk | None:  # a point read, never the whole case
        return self.get_chunks(case, [chunk_id]).get(chunk_id)

    def iter_chunks(self, case: str) -> Iterator[StoredChunk]:
        """Every served chunk of a case, streamed page by page from Chroma, for readers that visit each chunk once."""
        for _, chunk in self._read_chunks(case):
            yield chunk

    def _read_chunks(self, case: str, *, texts: bool = True, every: bool = False) -> Iterator[tuple[str, StoredChunk]]:
        """Stored chunks of a case (served ones unless `every`), read in pages: one unpaged `get` fails above 32,766
        chunks (SQLite's limit on query variables), which one large phone extraction exceeds. The next page is read
        ahead while this one is used (keywords/pages.py)."""
        served = self._served_hashes(case)
        col = self._collection(case)
        page = TEXT_PAGE if texts else READ_PAGE
        for got in read_pages(col, ["documents", "metadatas"] if texts else ["metadatas"], page):
            docs = got["documents"] if texts else None
            for n, (cid, meta) in enumerate(zip(got["ids"], got["metadatas"] or [], strict=True)):
                if every or self._is_served(meta, served):
                    yield cid, StoredChunk(cid, (docs[n] or "") if docs else "", dict(meta or {}))

    def dense_query(self, case: str, vector: np.ndarray, k: int,
                    where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The k nearest served chunks: ids and distances, and the count after (a chunk written during the search is
        seen); unserved chunks (a crash's leftovers, an ingest) send it again for k plus their number with metadata,
        unserved hits dropped. docs/scale.md, "Dense reads": what a state counted all served skips, and why."""
        served = self.manifest.served(case)
        state, query = (self.manifest.generation(case), frozenset(served.values())), vector.tolist()
        def search(col: Any) -> Any:
            return col.query(query_embeddings=[query], n_results=k, where=where, include=["distances"])
        def still() -> bool:  # chunks are written only under a pending row (manifest.begin)
            return self._chroma.all_served(case) == state and not self.manifest.pending(case) and \
                self.manifest.generation(case) == state[0]
        unserved = 0
        if not (still() and (res := self._read(case, search)) and still()):
            res, count = self._read(case, lambda col: (search(col), col.count()))
            unserved = count - sum(row.n_chunks for row in served.values())  # a version holds its n_chunks (fsck)
            if unserved <= 0 and not self.manifest.pending(case):
                self._chroma.all_served(case, state)
        if unserved <= 0:
            return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]
        res = self._read(case, lambda col: col.query(query_embeddings=[query], n_results=min(k + unserved, count),
                                                     where=where, include=["distances", "metadatas"]))
        hashes = {src: row.sha256 for src, row in served.items()}
        rows = zip(res["ids"][0], res["distances"][0], res["metadatas"][0], strict=True)
        return [(cid, 1.0 - float(d)) for cid, d, meta in rows if self._is_served(meta, hashes)][:k]

    def count(self, case: str) -> int:
        """Served chunks of the case (what retrieval can return)."""
        return sum(row.n_chunks for row in self.manifest.served(case).values()) if self.has_case(case) else 0

    def delete_case(self, case: str) -> bool:
        """Remove a case (collections, manifest rows, caches, derived files; the App removes its links and embedding
        cache); True when it existed."""
        with self._lock:
            existed = self._chroma.delete(check_case_id(case)) or self.has_case(case)
            self.manifest.delete_case(case)
            self._catalogs.pop(case)
            self._keywords.pop(case)
            for path in (self.index_dir / "bm25").glob(f"{case}.*"):  # the keyword index, catalog, term ledger
                path.unlink()
        log.info("case_deleted case=%s existed=%s", case, existed)
        return existed
