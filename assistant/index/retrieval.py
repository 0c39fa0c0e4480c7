"""Hybrid retrieval: BM25 and dense candidates fused by reciprocal rank, always inside one case."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.config import RetrievalSettings
from assistant.errors import AssistantError, EmptyCase
from assistant.index.bm25 import bm25_tokenize, entities_from_meta
from assistant.index.embedding import Embedder
from assistant.index.languages.crosslingual import Crosslingual
from assistant.index.narrow import narrow_passage
from assistant.index.store import IndexStore, StoredChunk, check_case_id
from assistant.types import Passage, RetrievalFilters

log = logging.getLogger(__name__)


def rrf_fuse(rankings: Sequence[Sequence[str]], k: int = 60,
             weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks 1-based. Ties keep first-seen order."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def dense_search(matrix: np.ndarray, ids: Sequence[str], query_vec: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Exact cosine search over L2-normalised rows (used by evals and benchmarks without Chroma)."""
    if len(ids) == 0:
        return []
    sims = matrix @ query_vec
    k = min(k, len(ids))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top])]
    return [(ids[int(i)], float(sims[int(i)])) for i in top]


def _matches(chunk: StoredChunk, filters: RetrievalFilters) -> bool:
    meta = chunk.meta
    if filters.source and meta.get("source") != filters.source:
        return False
    if filters.entity_type and filters.entity_type not in (meta.get("entity_types") or []):
        return False
    if filters.sender or filters.date_from or filters.date_to:
        if meta.get("kind") != "messages":
            return False
        if filters.sender:
            senders = [s.strip().lower() for s in str(meta.get("senders", "")).split(",")]
            if filters.sender.strip().lower() not in senders:
                return False
        ts_start, ts_end = str(meta.get("ts_start", "")), str(meta.get("ts_end", ""))
        if filters.date_from and ts_end < filters.date_from:
            return False
        if filters.date_to and ts_start[: len(filters.date_to)] > filters.date_to:
            return False
    return True


class Retriever:
    """BM25 + dense over one case's collection, fused with RRF."""

    def __init__(self, store: IndexStore, embedder: Embedder, settings: RetrievalSettings,
                 query_terms: Callable[[str], list[str]] | None = None,
                 crosslingual: Crosslingual | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.query_terms = query_terms
        self.crosslingual = crosslingual  # the multilingual ranking and the re-scoring of foreign candidates

    def retrieve(self, case: str, question: str, *, filters: RetrievalFilters | None = None,
                 top_k: int | None = None, mode: str | None = None) -> list[Passage]:
        check_case_id(case)
        if not self.store.has_case(case):
            raise EmptyCase(f"case {case!r} has no index: it holds no material yet (an admin must ingest its files "
                            f"first: `assistant ingest PATH --case {case}`)")
        if not question.strip():
            raise AssistantError("empty question")
        top_k = top_k or self.settings.top_k
        mode = mode or self.settings.mode
        bm25 = self.store.keyword_index(case)  # filters read its per-row columns, never the case's texts
        allowed: set[str] | None = None
        if filters is not None and not filters.is_empty():
            if bm25.columns is not None:
                allowed = {bm25.ids[int(i)] for i in np.flatnonzero(bm25.columns.mask(filters))}
            else:  # an index built from bare texts (evals) has no columns
                allowed = {cid for cid, ch in self.store.catalog(case)[0].items() if _matches(ch, filters)}
        n_chunks = len(bm25.ids)
        if n_chunks == 0:
            raise EmptyCase(f"case {case!r} holds no material yet: an admin must ingest its files first")
        depth = self.settings.candidate_k
        rankings: list[list[str]] = []
        weights: list[float] = []
        if mode in ("hybrid", "bm25"):
            tokens = bm25_tokenize(question)
            identifiers = self.query_terms(question) if self.query_terms is not None else []
            tokens += [t for term in identifiers for t in bm25_tokenize(term)]
            hits = bm25.search_tokens(tokens, depth if allowed is None else n_chunks)
            rankings.append([cid for cid, _ in hits if allowed is None or cid in allowed][:depth])
            weights.append(self.settings.bm25_weight * (self.settings.identifier_boost if identifiers else 1.0))
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_query(question)
            want = depth if allowed is None else min(n_chunks, depth * 10)
            hits = self.store.dense_query(case, qvec, want)
            rankings.append([cid for cid, _ in hits if allowed is None or cid in allowed][:depth])
            weights.append(self.settings.dense_weight)
        foreign: list[str] = []  # the multilingual ranking: fused (its head), and re-scored (all of it)
        if self.crosslingual is not None and mode in ("hybrid", "dense"):
            want = depth if allowed is None else min(n_chunks, depth * 10)
            foreign = [cid for cid in self.crosslingual.ranking(case, question, want)
                       if allowed is None or cid in allowed][:depth]
            if foreign:
                rankings.append(foreign[: self.crosslingual.settings.ml_depth])
                weights.append(self.crosslingual.weight)
        fused = rrf_fuse(rankings, k=self.settings.rrf_k, weights=weights)
        if self.crosslingual is not None:
            fused = self.crosslingual.rescore(case, question, fused, self.settings.rrf_k, pool=foreign,
                                              allowed=allowed)
        fused = fused[:top_k]
        chunks = self.store.get_chunks(case, [cid for cid, _ in fused])
        passages = [stored_passage(chunks[cid], case, score=score, rank=rank)
                    for rank, (cid, score) in enumerate(fused, start=1) if cid in chunks]
        if allowed is not None:  # sender/date filters hold per message, not per window
            passages = [n for p in passages if (n := narrow_passage(p, filters)) is not None]
        log.info("retrieve case=%s mode=%s candidates=%s returned=%d", case, mode,
                 [len(r) for r in rankings], len(passages))
        return passages


def stored_passage(chunk: StoredChunk, case: str, *, score: float = 0.0, rank: int = 0) -> Passage:
    """Our Passage for a stored chunk; refuses a chunk of another case (collections are per case already)."""
    meta: dict[str, Any] = chunk.meta
    if meta.get("case") != case:
        raise AssistantError(f"index corruption: chunk {chunk.chunk_id} is not in case {case}")
    flat = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
    return Passage(chunk_id=chunk.chunk_id, case=case, source=str(meta.get("source", "")),
                   locator=str(meta.get("locator", "")), text=chunk.text, score=score, rank=rank,
                   kind=str(meta.get("kind", "text")), meta=flat, entities=entities_from_meta(chunk.text, meta))
