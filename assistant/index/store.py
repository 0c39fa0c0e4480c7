"""Persistent index: one Chroma collection per case (vectors, text, metadata), a BM25 index beside it, and an ingest
manifest that makes re-ingest incremental and crash-safe.

Crash safety: a source is marked `pending` in the manifest before its chunks are written and `complete` after.
A source found `pending` (a crash mid-file) is re-done from scratch on the next ingest: its old chunks are deleted
by `source` first, so the collection never holds a half-written file next to a `complete` mark. BM25 is derived
data: built at the end of each ingest (`finalize`), and rebuilt from Chroma whenever the case's generation counter
moved without one (a crash between a write and the finalize)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import IndexSettings
from assistant.errors import AssistantError
from assistant.index.bm25 import Bm25Index, bm25_text
from assistant.index.client import collection_metadata, make_client
from assistant.index.lru import LruCache
from assistant.index.persisted import load_part, save_part
from assistant.types import Chunk

log = logging.getLogger(__name__)

READ_PAGE = 5_000  # chunks per Chroma read; well under SQLite's 32,766 query variables
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
    """Chroma (embedded under index_dir/chroma, or a server: index.client) + manifest.sqlite + in-memory
    BM25/catalog caches."""

    def __init__(self, index_dir: Path, catalog_cache_cases: int = CATALOG_CACHE_CASES,
                 chroma: IndexSettings | None = None) -> None:
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        self._client = make_client(index_dir, chroma)  # embedded, or a Chroma server when chroma.chroma_url is set
        self._collection_meta = collection_metadata(chroma)
        self._db = sqlite3.connect(str(index_dir / "manifest.sqlite"), check_same_thread=False, timeout=60)
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS sources (case_id TEXT, source TEXT, sha256 TEXT, n_chunks INTEGER,"
            " status TEXT, updated REAL, PRIMARY KEY (case_id, source));"
            "CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, generation INTEGER);")
        self._lock = threading.RLock()
        self._catalogs: LruCache[str, tuple[int, dict[str, StoredChunk], Bm25Index]] = LruCache(catalog_cache_cases)
        self._keywords: LruCache[str, tuple[int, Bm25Index]] = LruCache(catalog_cache_cases)  # cases without a catalog

    # ---- manifest -------------------------------------------------------------------------------------------
    def list_cases(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT case_id FROM cases ORDER BY case_id")]

    def has_case(self, case: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM cases WHERE case_id=?", (case,)).fetchone() is not None

    def generation(self, case: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT generation FROM cases WHERE case_id=?", (case,)).fetchone()
        return int(row[0]) if row else -1

    def source_state(self, case: str, source: str) -> tuple[str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, status FROM sources WHERE case_id=? AND source=?", (case, source)).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def sources(self, case: str) -> list[tuple[str, int, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT source, n_chunks, status FROM sources WHERE case_id=? ORDER BY source", (case,)).fetchall()
        return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]

    def _collection(self, case: str) -> Any:
        return self._client.get_or_create_collection(
            f"case_{check_case_id(case)}", embedding_function=None, metadata=self._collection_meta)

    def side_collection(self, case: str, space: str) -> Any:
        """A second vector space of the case in its own collection (`index.multilingual`: "ml_<case>")."""
        return self._client.get_or_create_collection(
            f"{space}_{check_case_id(case)}", embedding_function=None, metadata=self._collection_meta)

    # ---- writes ---------------------------------------------------------------------------------------------
    def replace_source(self, case: str, source: str, sha256: str, chunks: Sequence[Chunk],
                       vectors: np.ndarray) -> None:
        """Atomically (from the manifest's point of view) replace every chunk of one source."""
        check_case_id(case)
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO cases VALUES (?, 0)", (case,))
            self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, 'pending', ?)",
                             (case, source, sha256, len(chunks), time.time()))
            self._db.commit()
            col = self._collection(case)
            col.delete(where={"source": source})
            for start in range(0, len(chunks), 256):
                part = chunks[start : start + 256]
                col.add(ids=[c.chunk_id for c in part], embeddings=vectors[start : start + len(part)].tolist(),
                        documents=[c.text for c in part], metadatas=[chunk_metadata(c) for c in part])
            self._db.execute("UPDATE sources SET status='complete', updated=? WHERE case_id=? AND source=?",
                             (time.time(), case, source))
            self._db.execute("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))
            self._db.commit()
        log.info("index replace case=%s chunks=%d", case, len(chunks))

    # ---- reads ----------------------------------------------------------------------------------------------
    def catalog(self, case: str) -> tuple[dict[str, StoredChunk], Bm25Index]:
        """All chunks of a case and its BM25 index, cached per generation (at most `catalog_cache_cases` cases in
        memory, least recently used evicted first) and persisted beside Chroma."""
        gen = self.generation(case)
        with self._lock:
            cached = self._catalogs.get(case)
            if cached and cached[0] == gen:
                return cached[1], cached[2]
            chunks = load_part(self.index_dir, check_case_id(case), gen, "chunks")
            bm25 = load_part(self.index_dir, case, gen, "bm25")
            if not isinstance(chunks, dict) or not isinstance(bm25, Bm25Index):
                chunks = dict(self._read_chunks(case))
                ids = sorted(chunks)
                bm25 = Bm25Index.build(ids, [bm25_text(chunks[i].text, chunks[i].meta) for i in ids])
                save_part(self.index_dir, case, gen, "chunks", chunks)
                save_part(self.index_dir, case, gen, "bm25", bm25)
                log.info("catalog built case=%s generation=%d chunks=%d", case, gen, len(chunks))
            self._keywords.pop(case)  # the catalog entry holds it
            evicted = self._catalogs.put(case, (gen, chunks, bm25))
            if evicted:
                log.info("catalog cache evicted cases=%s", ",".join(evicted))
            return chunks, bm25

    def keyword_index(self, case: str) -> Bm25Index:
        """The case's BM25 index alone (a quarter of a catalog's memory and load time, bench_catalog_cache.py):
        what a question needs, its passages then read by id (`get_chunks`). Built with the catalog when missing."""
        gen = self.generation(case)
        with self._lock:
            cached = self._catalogs.get(case)
            if cached and cached[0] == gen:
                return cached[2]
            keyed = self._keywords.get(case)
            if keyed and keyed[0] == gen:
                return keyed[1]
            bm25 = load_part(self.index_dir, check_case_id(case), gen, "bm25")
            if not isinstance(bm25, Bm25Index):
                return self.catalog(case)[1]
            self._keywords.put(case, (gen, bm25))
            return bm25

    def get_chunks(self, case: str, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The named chunks (absent ids left out): from the cached catalog when current, else point reads."""
        gen = self.generation(case)
        with self._lock:
            cached = self._catalogs.get(case)
            if cached and cached[0] == gen:
                return {cid: cached[1][cid] for cid in chunk_ids if cid in cached[1]}
        out: dict[str, StoredChunk] = {}
        col = self._collection(case)
        for start in range(0, len(chunk_ids), READ_PAGE):
            got = col.get(ids=list(chunk_ids[start : start + READ_PAGE]), include=["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                out[cid] = StoredChunk(cid, doc or "", dict(meta or {}))
        return out

    def finalize(self, case: str) -> int:
        """End of an ingest: build and persist the case's catalog and BM25 now, so the first question after the
        ingest only loads them. Returns the chunk count."""
        chunks, _ = self.catalog(case)
        return len(chunks)

    def cached_cases(self) -> list[str]:
        """Cases whose catalog is held in memory, least recently used first."""
        with self._lock:
            return self._catalogs.keys()

    def get_chunk(self, case: str, chunk_id: str) -> StoredChunk | None:
        """One chunk by id: from the cached catalog when current, else one point read (never the whole case)."""
        return self.get_chunks(case, [chunk_id]).get(chunk_id)

    def iter_chunks(self, case: str) -> Iterator[StoredChunk]:
        """Every chunk of a case, streamed page by page from Chroma, for readers that visit each chunk once."""
        for _, chunk in self._read_chunks(case):
            yield chunk

    def _read_chunks(self, case: str) -> Iterator[tuple[str, StoredChunk]]:
        """Every stored chunk of a case, read in pages: one unpaged `get` fails above 32,766 chunks (SQLite's limit
        on query variables), which one large phone extraction exceeds."""
        col = self._collection(case)
        offset = 0
        while True:
            got = col.get(include=["documents", "metadatas"], limit=READ_PAGE, offset=offset)
            for cid, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
                yield cid, StoredChunk(cid, doc or "", dict(meta or {}))
            if len(got["ids"]) < READ_PAGE:
                return
            offset += READ_PAGE

    def dense_query(self, case: str, vector: np.ndarray, k: int,
                    where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        col = self._collection(case)
        count = col.count()
        if count == 0:
            return []
        res = col.query(query_embeddings=[vector.tolist()], n_results=min(k, count), where=where,
                        include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def count(self, case: str) -> int:
        return int(self._collection(case).count()) if self.has_case(case) else 0

    def delete_case(self, case: str) -> bool:
        """Remove a case: its Chroma collection, manifest rows, cached catalog and derived files. True when it
        existed. (Its per-case embedding cache and links are removed by the App, which owns them.)"""
        check_case_id(case)
        with self._lock:
            existed = self.has_case(case)
            for name in (f"case_{case}", f"ml_{case}"):  # ml_: the multilingual vectors (index.multilingual)
                try:
                    self._client.delete_collection(name)
                except Exception:  # no collection: nothing was ever written
                    log.debug("delete_case no_collection case=%s", case)
            self._db.execute("DELETE FROM sources WHERE case_id=?", (case,))
            self._db.execute("DELETE FROM cases WHERE case_id=?", (case,))
            self._db.commit()
            self._catalogs.pop(case)
            self._keywords.pop(case)
            derived = self.index_dir / "bm25"
            for path in derived.glob(f"{case}.*") if derived.is_dir() else []:
                path.unlink()
        log.info("case_deleted case=%s existed=%s", case, existed)
        return existed
