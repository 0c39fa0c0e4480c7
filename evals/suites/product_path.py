"""Rank a public corpus through the product's own path: the Ingestor (loader, chunker, embedder, index store) and
the Retriever (BM25 over chunks, Chroma, weighted RRF, identifier boost from the PII tagger's query terms).

Each document is written once as `<doc_id>.txt` under `<eval root>/corpora/<name>` and ingested as a case of the
index there. The eval root lives outside the checkout, under cache_dir, one folder per version of the ingest code
(`eval_index.eval_root`), so a fresh clone of unchanged code reuses the index and its embeddings. The store's manifest
makes a second run a no-op, and the case id carries a hash of the settings that shape chunks, so a change of chunking
settings builds a new case instead of reusing stale chunks. Documents are not PII-tagged (public abstracts hold no
case identifiers; tagging 5,000 abstracts would add minutes to every CI run): the index holds their words and
spelled-out dates, as the product's BM25
text does. A document's rank is its best chunk's rank.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.types import Entity
from evals.suites import progress_iter
from evals.suites.eval_index import eval_root


class _NoTags:
    """Tagger for public documents: no entities (see the module docstring)."""

    def tag_many(self, texts: list[str]) -> list[list[Entity]]:
        return [[] for _ in texts]


def _case_id(name: str, settings: Settings, doc_ids: Sequence[str]) -> str:
    shape = (settings.embedding.model_path, settings.embedding.max_seq_length, settings.embedding.chunk_tokens,
             settings.embedding.chunk_overlap_tokens, len(doc_ids), settings.language.multilingual,
             tuple(settings.language.candidates))
    return f"{name}-{hashlib.sha256(repr(shape).encode()).hexdigest()[:10]}"


def ingest_corpus(name: str, docs: Sequence[tuple[str, str]], settings: Settings, *, progress: bool = True,
                  suffix: str = ".txt") -> tuple[Any, str, Any]:
    """Write the documents (`<doc_id><suffix>`) and ingest them as one case of the eval index: (App, case id,
    ingest report)."""
    from assistant.app import App

    root = eval_root(settings)
    folder = root / "corpora" / name
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in docs:
        path = folder / f"{doc_id}{suffix}"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    app = App(settings.model_copy(update={"index_dir": root / "indexes"}))
    case = _case_id(name, settings, [d for d, _ in docs])
    from assistant.ingest.pipeline import Ingestor

    ingestor = Ingestor(app.settings, app.store, app.embedder, _NoTags(), app.tokenizer)
    ingestor.multilingual = app.multilingual  # non-English originals get their multilingual vectors, as in the app
    return app, case, ingestor.ingest([folder], case, progress=progress)


def product_rankings(name: str, docs: Sequence[tuple[str, str]], queries: dict[str, str], settings: Settings, *,
                     depth: int = 100, progress: bool = True) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Per query, document ids ranked by the product's Retriever (best chunk per document), and ingest facts."""
    runs, facts = product_mode_rankings(name, docs, queries, settings, modes=(None,), depth=depth,
                                        progress=progress)
    return runs[None], facts


def product_mode_rankings(name: str, docs: Sequence[tuple[str, str]], queries: dict[str, str], settings: Settings, *,
                          modes: Sequence[str | None], depth: int = 100, progress: bool = True,
                          ) -> tuple[dict[str | None, dict[str, list[str]]], dict[str, Any]]:
    """The same for each retrieval mode asked (None = the configured one) over one ingest: the product's hybrid and
    its own BM25-only and dense-only sides, with no second embedding of the corpus."""
    app, case, report = ingest_corpus(name, docs, settings, progress=progress)
    # the product's settings, except that every fused candidate is returned (not just the top_k shown to a user)
    retrieval = app.settings.retrieval
    top_k = 2 * retrieval.candidate_k
    from assistant.index.retrieval import Retriever

    retriever = Retriever(app.store, app.embedder, retrieval, query_terms=app.pii.query_terms,
                          crosslingual=app.crosslingual)
    out: dict[str | None, dict[str, list[str]]] = {}
    for mode in modes:
        runs: dict[str, list[str]] = {}
        for qid, text in progress_iter(queries.items(), desc=f"{name} retriever {mode or retrieval.mode}",
                                       total=len(queries), enabled=progress):
            ranked: dict[str, None] = {}
            for passage in retriever.retrieve(case, text, top_k=top_k, mode=mode):
                ranked.setdefault(Path(passage.source).stem, None)
            runs[qid] = list(ranked)[:depth]
        out[mode] = runs
    facts = {"case": case, "chunks": app.store.count(case), "ingested_now": len(report.ingested),
             "failed": len(report.failed), "candidate_k": retrieval.candidate_k, "chunks_returned": top_k}
    return out, facts
