"""Second-stage re-scoring of the top fused candidates with EmbeddingGemma-300M, when some are not in English.

EmbeddingGemma separates an English question's answer in Polish, Romanian, Urdu, Arabic or Vietnamese from unrelated
messages by a far wider margin than multilingual-e5-small, but it is about 4-5 times slower (about 10 short texts/s
on one core), so it reads only the `rerank_n` best fused candidates, and only when one of them holds an original
that is not in English. Its ranking of those candidates is fused with their fused order by weighted reciprocal rank;
the scores of the re-ordered head keep the head's original values, so scores stay ranked and on the same scale.

Loaded by sentence-transformers from the verified local folder only (`llm.embedding_model`); when the model is not
installed the retriever goes on without it and `status` says why. Vectors of non-English candidates are computed at
ingest and stored (`gemma_space`); others are kept in memory by content hash (a bounded dict, questions too), so a
question costs one query encoding plus the candidates neither stored nor seen before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CACHE_TEXTS = 20_000  # about 60 MB of 768-d float32 vectors
MAX_TOKENS = 512  # a message or chunk is far shorter; bounds the cost of an odd long one


class GemmaScorer:
    """Cosine of a question and texts under EmbeddingGemma's retrieval prompts."""

    def __init__(self, model_dir: Path | None, threads: int = 1, why_missing: str = "") -> None:
        self.model_dir = model_dir
        self.threads = threads
        self._why_missing = why_missing
        self._model: Any = None
        self._failed = ""
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def status(self) -> str:
        """"" when usable, else why re-scoring is skipped."""
        if self.model_dir is None:
            return self._why_missing or "EmbeddingGemma is not installed: `assistant models install embeddinggemma`"
        return self._failed

    def _load(self) -> Any:
        if self._model is None and not self._failed and self.model_dir is not None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
                model.max_seq_length = MAX_TOKENS
                self._model = model
                log.info("rerank model loaded dir_sha=%s", hashlib.sha1(str(self.model_dir).encode()).hexdigest()[:8])
            except Exception as exc:  # a broken folder costs the re-scoring, never the question
                self._failed = f"EmbeddingGemma failed to load ({type(exc).__name__}); re-scoring skipped"
                log.exception("rerank model failed to load")
        return self._model

    def documents(self, texts: Sequence[str]) -> np.ndarray | None:
        """Passage vectors (rows L2-normalised) of the texts, not cached here (ingest stores them); None when the
        model is unavailable."""
        with self._lock:
            model = self._load()
            if model is None:
                return None
            vecs = model.encode_document(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                         batch_size=16)
            return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)

    def query_vector(self, question: str) -> np.ndarray | None:
        """The question's vector (cached by hash); None when the model is unavailable."""
        with self._lock:
            return self._query_vector(question)

    def _query_vector(self, question: str) -> np.ndarray | None:
        model = self._load()
        if model is None:
            return None
        qkey = "q:" + hashlib.sha256(question.encode()).hexdigest()
        if qkey not in self._cache:
            self._cache[qkey] = np.asarray(
                model.encode_query([question], normalize_embeddings=True, convert_to_numpy=True)[0],
                dtype=np.float32)
        return self._cache[qkey]

    def scores(self, question: str, texts: Sequence[str],
               known: dict[str, np.ndarray] | None = None) -> np.ndarray | None:
        """Cosine of the question with each text; None when the model is unavailable. `known` holds vectors
        computed at ingest, by sha256 of their text (`gemma_space`): only the other texts are embedded now."""
        with self._lock:
            qvec = self._query_vector(question)
            if qvec is None:
                return None
            keys = [text_key(t) for t in texts]
            known = known or {}
            todo = list(dict.fromkeys(k for k in keys if k not in self._cache and k not in known))
            if todo:
                text_of = dict(zip(keys, texts, strict=True))
                vecs = self._model.encode_document([text_of[k] for k in todo], normalize_embeddings=True,
                                                   convert_to_numpy=True, batch_size=16)
                for key, vec in zip(todo, vecs, strict=True):
                    self._cache[key] = np.asarray(vec, dtype=np.float32)
            rows = [known[k] if k in known else self._cache[k] for k in keys]
            for key in keys:
                if key in self._cache:
                    self._cache.move_to_end(key)
            while len(self._cache) > CACHE_TEXTS:
                self._cache.popitem(last=False)
            out: np.ndarray = np.stack(rows) @ qvec
            return out



def text_key(text: str) -> str:
    """The key of a text's vector: in this scorer's cache and in the vectors stored at ingest (`gemma_space`),
    which must agree for a stored vector to be found."""
    return hashlib.sha256(text.encode()).hexdigest()

def rerank_head(fused: list[tuple[str, float]], scores: Sequence[float], *, weight: float, rrf_k: int,
                movable: Sequence[bool] | None = None) -> list[tuple[str, float]]:
    """Re-order the head of `fused` (as long as `scores`) by RRF of its fused order and the model's order; the head
    keeps its original score values in descending order; the tail is unchanged. With `movable` (one flag per head
    item), the items not movable keep their fused order among themselves: the new order decides only which places
    they take, so the model moves the others past them but never swaps two of them."""
    n = len(scores)
    head, tail = fused[:n], fused[n:]
    model_order = [head[i][0] for i in np.argsort(-np.asarray(scores), kind="stable")]
    combined: dict[str, float] = {}
    for order, w in (([cid for cid, _ in head], 1.0), (model_order, weight)):
        for rank, cid in enumerate(order, start=1):
            combined[cid] = combined.get(cid, 0.0) + w / (rrf_k + rank)
    new_order = sorted(combined, key=lambda cid: -combined[cid])
    if movable is not None:
        moves = {cid for (cid, _), flag in zip(head, movable, strict=True) if flag}
        kept = iter([cid for cid, _ in head if cid not in moves])
        new_order = [cid if cid in moves else next(kept) for cid in new_order]
    values = sorted((score for _, score in head), reverse=True)
    return [*zip(new_order, values, strict=True), *tail]
