"""Commit a big file's chunks in batches, and resume after a crash (issue 14).

One phone extraction can hold 200k messages: tagging and embedding them takes hours, and a crash used to lose it all.
Now a new version of a source is recorded as pending first (`Manifest.begin`), then its chunks are tagged, embedded
and written to Chroma `batch` at a time (setting `ingest.commit_batch`); each Chroma write is durable on its own.
Nothing serves them: reads keep to the manifest's served versions until the swap (`Manifest.complete`) makes the
whole new version visible at once, after which the old version's chunks are deleted.

Resume: chunk ids are derived from (case, source, sha256, position), so the next ingest of the same bytes makes the
same ids. Before writing, the writer reads which ids of this (source, sha256) Chroma already holds, with a matching
content hash: those are not tagged or embedded again (their PII spans come back from their stored metadata), and
chunks of that version that the new chunking no longer makes are deleted. So a crash after batch k resumes at batch
k+1, with no duplicate and an exact count (the swap records exactly the chunks made). The side collections of
non-English originals (`index.languages.versions`) are written in the same batches, each batch's entries just before
its chunks, so a kept chunk always has its entries and a resume redoes at most one batch of them too."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from assistant.errors import IngestError
from assistant.index.durable import kill_point
from assistant.index.keywords.counted import count_batch
from assistant.index.keywords.ledger import TermLedger
from assistant.index.manifest import SourceRow
from assistant.index.store import READ_PAGE, IndexStore, chunk_metadata
from assistant.types import Chunk, Entity

log = logging.getLogger(__name__)

Guard = Callable[[], AbstractContextManager[object]]


class SideIndex(Protocol):
    """Side collections written with a version's chunks (index.languages.multilingual.MultilingualIndex)."""

    def embed_batch(self, row: SourceRow, chunks: Sequence[Chunk]) -> Any: ...
    def write_batch(self, case: str, batch: Any) -> int: ...
    def prune(self, case: str, row: SourceRow, keep: Collection[str], within: Collection[str] | None) -> None: ...
    def drop_version(self, case: str, row: SourceRow) -> None: ...
    def swapped(self, case: str, row: SourceRow) -> None: ...


TagFn = Callable[[Sequence[Chunk]], list[Chunk]]
EmbedFn = Callable[[list[str]], np.ndarray]


class BatchWriter:
    """Write one version of one source (the caller holds the case lock): `write` the chunks, then `swap`."""

    def __init__(self, store: IndexStore, case: str, row: SourceRow, batch: int) -> None:
        self.store = store
        self.case = case
        self.row = row
        self.batch = max(1, batch)
        self.resumed = 0  # chunks found already committed by an interrupted ingest of the same bytes
        self.batches = 0  # batches written by this run
        self.ledger = TermLedger(store.index_dir, case)  # each batch's keyword terms, for finalize (issue 19)

    def _where(self, same: bool) -> dict[str, Any]:
        sha: Any = self.row.sha256 if same else {"$ne": self.row.sha256}
        return {"$and": [{"source": self.row.source}, {"source_hash": sha}]}

    def committed(self, ids: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        """Chunk id -> metadata of what Chroma already holds of this version (read in pages); only of `ids` when
        given (a part of a split file)."""
        col = self.store.side_collection(self.case, "")
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), READ_PAGE):
            got = col.get(ids=list(ids[start : start + READ_PAGE]), where=self._where(True), include=["metadatas"])
            out.update((cid, dict(meta or {})) for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))
        offset = 0
        while not ids:  # the whole version
            got = col.get(where=self._where(True), include=["metadatas"], limit=READ_PAGE, offset=offset)
            out.update((cid, dict(meta or {})) for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True))
            if len(got["ids"]) < READ_PAGE:
                break
            offset += READ_PAGE
        return out

    def write(self, chunks: Sequence[Chunk], tag: TagFn, embed: EmbedFn, timings: dict[str, float],
              guard: Guard = contextlib.nullcontext, part: bool = False, side: SideIndex | None = None) -> list[Chunk]:
        """Tag, embed and write the chunks not yet committed, `batch` at a time; returns every chunk tagged, in
        order (the resumed ones with the PII spans they were stored with). Every write is made inside `guard()`
        (ingest workers: the case lock, taken per write so tagging and embedding run in parallel, unlocked).
        `part`: `chunks` are one range of the version (assistant.workers.split): the others' are kept, and a failure
        leaves what was written for the commit to resume. `side`: the side collections (index.languages), whose
        entries of each batch are written just before its chunks."""
        done: dict[str, Chunk] = {}
        with guard():
            self.store.manifest.begin(self.case, self.row)
            col = self.store.side_collection(self.case, "")
            held = self.committed([c.chunk_id for c in chunks] if part else ())
            wanted = {c.chunk_id for c in chunks}
            stale = [] if part else [cid for cid in held if cid not in wanted]
            for start in range(0, len(stale), READ_PAGE):  # a try of these bytes chunked differently
                col.delete(ids=stale[start : start + READ_PAGE])
            for c in chunks:
                restored = _restored(c, held[c.chunk_id]) if c.chunk_id in held else None
                if restored is not None:
                    done[c.chunk_id] = restored
            if side is not None:  # entries of chunks not kept: a batch cut short before its chunks, or stale
                side.prune(self.case, self.row, set(done), wanted if part else None)
            if not part:  # the version's term records: only of the chunks kept (a batch is forgotten before its write)
                self.ledger.keep_only(self.row.source, self.row.sha256, set(done))
        self.resumed = len(done)
        todo = [c for c in chunks if c.chunk_id not in done]
        batches = [todo[start : start + self.batch] for start in range(0, len(todo), self.batch)]
        with ThreadPoolExecutor(1, thread_name_prefix="pii-ahead") as ahead:  # tags batch k+1 while k is embedded
            pending = ahead.submit(_timed, tag, batches[0]) if batches else None
            for k in range(len(batches)):
                t0 = time.perf_counter()
                try:
                    tagged, tag_s = pending.result() if pending is not None else ([], 0.0)
                    pending = ahead.submit(_timed, tag, batches[k + 1]) if k + 1 < len(batches) else None
                    t1 = time.perf_counter()
                    vectors = embed([c.text for c in tagged])
                    t2 = time.perf_counter()
                    extra = side.embed_batch(self.row, tagged) if side is not None else None
                    t3 = time.perf_counter()  # the batch's term record is counted in "index" time
                    ids = [c.chunk_id for c in tagged]
                    metas = [{**chunk_metadata(c), "source_hash": self.row.sha256} for c in tagged]
                    terms = count_batch(zip(ids, (c.text for c in tagged), metas, strict=True))
                except Exception as exc:  # e.g. the disk is full under the embedding cache
                    if pending is not None:
                        pending.cancel()
                    raise self._failed(exc, col, guard, part, side) from exc
                with guard():
                    try:
                        if side is not None and side.write_batch(self.case, extra):
                            kill_point("side_add")  # a batch's side entries written, its chunks not
                        self.ledger.forget(ids)  # a chunk written again: its older record no longer counts
                        col.upsert(ids=ids, embeddings=vectors.tolist(), documents=[c.text for c in tagged],
                                   metadatas=metas)
                    except Exception as exc:  # e.g. the disk is full under Chroma
                        raise self._failed(exc, col, contextlib.nullcontext, part, side) from exc
                    self._record(ids, terms)
                # pii: tagging time (in the thread); pii_wait: what the embedder waited for it
                for key, dt in (("pii", tag_s), ("pii_wait", t1 - t0), ("embed", t2 - t1), ("multilingual", t3 - t2),
                                ("index", time.perf_counter() - t3)):
                    timings[key] = timings.get(key, 0.0) + dt
                done.update((c.chunk_id, c) for c in tagged)
                self.batches += 1
                kill_point("chroma_add")  # after a batch: what a crash between two batches leaves
        log.info("batches written case=%s chunks=%d resumed=%d batches=%d", self.case, len(chunks), self.resumed,
                 self.batches)
        return [done[c.chunk_id] for c in chunks]

    def _record(self, ids: list[str], terms: bytes) -> None:
        """The batch's term record, after its chunks are written; without it finalize reads them from Chroma."""
        try:
            self.ledger.record(self.row.source, self.row.sha256, ids, terms)
        except (sqlite3.Error, OSError) as exc:  # e.g. the disk is full: correct, only slower to finalize
            log.warning("term record not kept case=%s error=%s", self.case, type(exc).__name__)

    def _failed(self, exc: Exception, col: Any, guard: Guard, part: bool = False,
                side: SideIndex | None = None) -> IngestError:
        kept = "what was written is kept for the commit to resume" if part else self._discard(col, guard, side)
        return IngestError(self.row.source, f"could not index its chunks ({type(exc).__name__}: {exc}; is the disk "
                           f"under {self.store.index_dir} full?); {kept}")

    def _discard(self, col: Any, guard: Guard, side: SideIndex | None) -> str:
        """After a failed write: take back this version's chunks and pending mark, so the case stays as it was (never
        the chunks of a served version: a re-index of the same bytes keeps them)."""
        try:
            with guard():
                served = self.store.source_state(self.case, self.row.source)
                if served is not None and served.sha256 == self.row.sha256:
                    return "the served version was kept"
                col.delete(where=self._where(True))
                self.ledger.drop(self.row.source, self.row.sha256)
                if side is not None:
                    side.drop_version(self.case, self.row)
                self.store.manifest.drop_pending(self.case, self.row.source, self.row.sha256)
        except Exception as exc:  # the disk is still full: fsck finds the pending version, the next ingest resumes it
            log.warning("discard failed case=%s error=%s", self.case, type(exc).__name__)
            return "its partial version is never served; `assistant fsck` lists it"
        return "nothing of it was kept"

    def swap(self, side: SideIndex | None = None) -> None:
        """Make the new version the served one in one manifest transaction (its side entries with it: reads keep to
        served versions), then delete the old version's chunks and side entries."""
        kill_point("before_swap")
        self.store.manifest.complete(self.case, self.row)
        self.store.wrote(self.case)
        kill_point("after_swap")
        self.store.side_collection(self.case, "").delete(where=self._where(False))
        self.ledger.drop(self.row.source, keep_sha=self.row.sha256)
        if side is not None:
            side.swapped(self.case, self.row)


def _timed(tag: TagFn, batch: Sequence[Chunk]) -> tuple[list[Chunk], float]:
    t0 = time.perf_counter()
    return tag(batch), time.perf_counter() - t0


def _restored(chunk: Chunk, meta: dict[str, Any]) -> Chunk | None:
    """A committed chunk with the PII spans stored beside it (`index.store.chunk_metadata`: type, start, end, score,
    normalised form); None when what is stored is not this chunk's text or its spans cannot be read (written again)."""
    if meta.get("content_hash") != chunk.content_hash:
        return None
    try:
        spans = json.loads(str(meta.get("entities_json")))
        entities = tuple(Entity(str(t), int(s), int(e), chunk.text[int(s) : int(e)], float(score), str(norm))
                         for t, s, e, score, norm in spans)
    except (ValueError, TypeError):
        return None
    return replace(chunk, entities=entities)


def write_version(store: IndexStore, case: str, source: str, sha256: str, chunks: Sequence[Chunk],
                  vectors: np.ndarray, origin: str = "", batch: int = 256) -> BatchWriter:
    """Write a version whose vectors are already computed (benchmarks and tests of the store) through the same
    batched, resumable path as an ingest, and swap it in; the caller holds the case lock. Replaces the one-shot
    `IndexStore.replace_source`, which redid a whole version after a crash. `batch`: the default ingest.commit_batch."""
    row = {c.chunk_id: n for n, c in enumerate(chunks)}
    tagged: deque[list[int]] = deque()  # rows of each tagged batch, in order: batch k+1 is tagged while k is embedded

    def tag(part: Sequence[Chunk]) -> list[Chunk]:  # already tagged: queue the rows its embed call will ask for
        tagged.append([row[c.chunk_id] for c in part])
        return list(part)

    def embed(texts: list[str]) -> np.ndarray:  # batches are embedded in the order they were tagged
        rows = tagged.popleft()
        if len(rows) != len(texts):
            raise ValueError(f"write_version: {len(texts)} texts to embed for a batch of {len(rows)} chunks")
        return vectors[rows]

    writer = BatchWriter(store, case, SourceRow(source, sha256, origin, len(chunks)), batch)
    writer.write(chunks, tag, embed, {})
    writer.swap()
    return writer


def resumed_note(resumed: int, total: int) -> str:
    """The ingest note of a file whose first `resumed` of `total` chunks an interrupted ingest had committed (the whole
    path and the sliced path say the same)."""
    return f"resumed: {resumed} of {total} chunks were committed by an interrupted ingest of the same bytes and kept"
