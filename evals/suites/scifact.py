"""SciFact (BEIR test): 5,183 abstracts, 300 claims, 339 qrels.

The headline metrics are the product's retrieval path: every abstract ingested as a file of a case (the product's
chunker, embedder and index store) and every claim asked through the product's `Retriever` with the configured
settings; a document ranks by its best chunk (`evals/suites/product_path.py`). The Retriever returns at most
2 x candidate_k chunks, so recall@100 counts the documents among those.

Beside it, BM25, dense and hybrid at document level, comparable with BEIR's published numbers. Documents are title
+ abstract as one text. BM25 indexes the whole text. all-MiniLM-L6-v2 reads at most 256
wordpieces and 71 % of SciFact abstracts are longer, so the dense side is measured two ways:
`truncated` (one vector per doc, the model silently drops the tail, as BEIR's published number does) and
`windows` (title + whole sentences packed into <= 240-wordpiece windows, doc score = best window). The product
chunks to < 256 tokens, so `windows` is the variant that matches what the assistant does.

Fusion settings (RRF k, candidate depth, weights) are tuned on SciFact's *train* claims (809 claims, qrels built from
their cited docs exactly as BEIR built test from the dev claims), then reported on test: test is never tuned on.

The CI sample (suite `scifact_sample`, `run_sample`) keeps all 300 test claims but a smaller corpus: every abstract
a test claim cites plus one in `SAMPLE_EVERY` of the others (chosen by a hash of the doc id, so the same every run),
ingested once through the product; the retrievers beside the headline are the product's own BM25-only and
dense-only sides of that index. Embedding the whole corpus twice (document-level windows and the product's chunks)
took most of a cold CI run's eval time; the sample's numbers are higher than the full corpus's (fewer distractors),
so the gate has its own section, `[scifact_sample]`, and the full-corpus numbers come from `make eval`."""

from __future__ import annotations

import hashlib
import itertools
import logging
from typing import Any

from assistant.config import Settings
from evals.datasets import load_scifact
from evals.suites import (
    Timer,
    bm25_rankings,
    dense_rankings,
    fuse,
    make_embedder,
    maybe_sabotage,
    progress_iter,
    ranking_metrics,
    rounded,
    token_windows,
    tokenizer_counter,
)
from evals.suites.product_path import product_mode_rankings, product_rankings

log = logging.getLogger(__name__)

PUBLISHED = {"bm25": {"ndcg@10": 0.665}, "dense": {"ndcg@10": 0.645}}  # BEIR paper / SBERT leaderboard
PUBLISHED_NOTE = "BEIR SciFact test nDCG@10: BM25 (Elasticsearch) 0.665, all-MiniLM-L6-v2 0.645"
WINDOW_TOKENS = 240
DEPTH = 200
DENSE_VARIANT = "windows"  # the variant used for hybrid and in quick/CI runs; both are measured in full runs
SAMPLE_EVERY = 8  # CI sample: the 283 cited abstracts + 1 in 8 of the rest, 883 of 5,183
GRID_RRF_K = (5, 10, 20, 30, 60, 100)
GRID_CANDIDATES = (20, 50, 100, 200)
GRID_WEIGHTS = ((1.0, 1.0), (1.25, 1.0), (1.5, 1.0), (2.0, 1.0), (1.0, 1.25), (1.0, 1.5), (1.0, 2.0))  # (bm25, dense)


def _fusion_config(settings: Settings) -> dict[str, Any]:
    r = settings.retrieval
    weights = (float(getattr(r, "bm25_weight", 1.0)), float(getattr(r, "dense_weight", 1.0)))
    return {"rrf_k": int(r.rrf_k), "candidate_k": int(r.candidate_k), "weights": weights}


def _hybrid(bm25: dict[str, list[str]], dense: dict[str, list[str]], cfg: dict[str, Any]) -> dict[str, list[str]]:
    return {q: fuse(bm25[q], dense[q], rrf_k=cfg["rrf_k"], candidate_k=cfg["candidate_k"],
                    weights=tuple(cfg["weights"]), top=100) for q in bm25}


def _dense_units(sf: Any, embedder: Any, variant: str) -> tuple[list[str], list[str], dict[str, str] | None]:
    if variant == "truncated":
        return [d.doc_id for d in sf.corpus], [d.text for d in sf.corpus], None
    count = tokenizer_counter(embedder.tokenizer)
    ids: list[str] = []
    texts: list[str] = []
    owner: dict[str, str] = {}
    for d in sf.corpus:
        for i, w in enumerate(token_windows(d.title, d.sentences, count, WINDOW_TOKENS)):
            uid = f"{d.doc_id}#{i}"
            ids.append(uid)
            texts.append(w)
            owner[uid] = d.doc_id
    return ids, texts, owner


def _tune(bm25: dict[str, list[str]], dense: dict[str, list[str]], qrels: dict[str, dict[str, int]],
          progress: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    grid = list(itertools.product(GRID_RRF_K, GRID_CANDIDATES, GRID_WEIGHTS))
    table: list[dict[str, Any]] = []
    for rrf_k, cand, weights in progress_iter(grid, desc="scifact tune", total=len(grid), enabled=progress):
        cfg = {"rrf_k": rrf_k, "candidate_k": cand, "weights": weights}
        score = ranking_metrics(_hybrid(bm25, dense, cfg), qrels)["ndcg@10"]
        table.append({**cfg, "train_ndcg@10": score})
    table.sort(key=lambda row: -row["train_ndcg@10"])
    best = {k: table[0][k] for k in ("rrf_k", "candidate_k", "weights")}
    return best, table


def sample_corpus(sf: Any, every: int = SAMPLE_EVERY) -> list[tuple[str, str]]:
    """(doc id, text) of every abstract a test claim cites and of one in `every` of the others (by hash)."""
    cited = {doc for rel in sf.qrels.values() for doc in rel}
    return [(d.doc_id, d.text) for d in sf.corpus
            if d.doc_id in cited or int(hashlib.sha256(d.doc_id.encode()).hexdigest()[:8], 16) % every == 0]


def run_sample(settings: Settings, *, quick: bool = True, progress: bool = True) -> dict[str, Any]:
    """The CI sample (`[scifact_sample]`): the product's hybrid, BM25-only and dense-only rankings of all 300 test
    claims over the sampled corpus, from one ingest."""
    timer = Timer()
    sf = load_scifact(settings.eval_data)
    docs = sample_corpus(sf)
    timer.mark("load_s")
    runs, facts = product_mode_rankings("scifact-sample", docs, sf.queries, settings,
                                        modes=(None, "bm25", "dense"), progress=progress)
    timer.mark("product_path_s")
    result: dict[str, Any] = {
        "dataset": f"BEIR SciFact test, sampled corpus (cited abstracts + 1 in {SAMPLE_EVERY} of the rest)",
        "n_queries": len(sf.queries), "n_docs": len(docs), "mode": settings.retrieval.mode,
        **ranking_metrics(maybe_sabotage(runs[None]), sf.qrels),
        "product_path": facts,
        "retrievers": {"bm25": ranking_metrics(runs["bm25"], sf.qrels),
                       "dense": ranking_metrics(runs["dense"], sf.qrels)},
        "timing_s": timer.marks,
    }
    return rounded(result)


def run(settings: Settings, *, quick: bool = False, progress: bool = True,
        variants: tuple[str, ...] | None = None, dense_variant: str = DENSE_VARIANT) -> dict[str, Any]:
    """Full: both dense variants + fusion tuning on train claims. Quick (CI): `dense_variant` only, no tuning."""
    timer = Timer()
    sf = load_scifact(settings.eval_data)
    embedder = make_embedder(settings)
    doc_ids = [d.doc_id for d in sf.corpus]
    queries = sf.queries
    tune = not quick and bool(sf.train_queries)
    all_q = {**queries, **(sf.train_queries if tune else {})}
    qvecs_arr = embedder.embed_texts(list(all_q.values()))
    qvecs = dict(zip(all_q.keys(), qvecs_arr, strict=True))
    timer.mark("load_s")

    bm25_all = bm25_rankings(doc_ids, [d.text for d in sf.corpus], all_q, DEPTH, progress, "scifact bm25")
    timer.mark("bm25_s")

    variants = variants or ((dense_variant,) if quick else ("truncated", "windows"))
    dense_all: dict[str, dict[str, list[str]]] = {}
    units: dict[str, int] = {}
    for variant in variants:
        ids, texts, owner = _dense_units(sf, embedder, variant)
        units[variant] = len(ids)
        matrix = embedder.embed_texts(texts, show_progress=progress)
        dense_all[variant] = dense_rankings(matrix, ids, qvecs, DEPTH, owner)
        timer.mark(f"dense_{variant}_s")

    test_q = set(queries)
    bm25 = {q: r for q, r in bm25_all.items() if q in test_q}
    dense = {q: r for q, r in dense_all[dense_variant].items() if q in test_q}
    cfg = _fusion_config(settings)
    hybrid = _hybrid(bm25, dense, cfg)
    mode = settings.retrieval.mode
    timer.mark("fusion_s")
    product, product_facts = product_rankings("scifact", [(d.doc_id, d.text) for d in sf.corpus], queries,
                                              settings, progress=progress)
    timer.mark("product_path_s")
    configured = maybe_sabotage(product)

    result: dict[str, Any] = {
        "dataset": "BEIR SciFact test",
        "n_queries": len(queries),
        "n_docs": len(doc_ids),
        "n_qrels": sum(len(v) for v in sf.qrels.values()),
        "mode": mode,
        **ranking_metrics(configured, sf.qrels),
        "product_path": product_facts,
        "retrievers": {
            "bm25": ranking_metrics(bm25, sf.qrels),
            "dense": ranking_metrics(dense, sf.qrels),
            "hybrid": ranking_metrics(hybrid, sf.qrels),
        },
        "dense_variants": {
            v: {**ranking_metrics({q: r for q, r in d.items() if q in test_q}, sf.qrels), "units": units[v]}
            for v, d in dense_all.items()
        },
        "dense_variant_used": dense_variant,
        "fusion": {**cfg, "weights": list(cfg["weights"])},
        "published": PUBLISHED,
        "published_note": PUBLISHED_NOTE,
    }
    if tune:
        train_bm25 = {q: r for q, r in bm25_all.items() if q in sf.train_queries}
        train_dense = {q: r for q, r in dense_all[dense_variant].items() if q in sf.train_queries}
        best, table = _tune(train_bm25, train_dense, sf.train_qrels, progress)
        tuned = ranking_metrics(_hybrid(bm25, dense, best), sf.qrels)
        same = [row for row in table if row["rrf_k"] == cfg["rrf_k"] and row["candidate_k"] == cfg["candidate_k"]
                and tuple(row["weights"]) == tuple(cfg["weights"])]
        result["tuning"] = {
            "tuned_on": f"SciFact train claims (n={len(sf.train_queries)}, disjoint from test)",
            "best": {**best, "weights": list(best["weights"])},
            "test_with_best": tuned,
            "train_with_configured": same[0]["train_ndcg@10"] if same else None,
            "top5": [{**row, "weights": list(row["weights"])} for row in table[:5]],
            "grid_size": len(table),
        }
        oracle = max(ranking_metrics(_hybrid(bm25, dense, row), sf.qrels)["ndcg@10"] for row in table[:20])
        result["tuning"]["test_oracle_top20"] = oracle  # shown only to expose over-fitting, never used to choose
        timer.mark("tuning_s")
    result["timing_s"] = timer.marks
    log.info("scifact done ndcg@10=%.4f mode=%s n=%d", result["ndcg@10"], mode, len(queries))
    return rounded(result)
