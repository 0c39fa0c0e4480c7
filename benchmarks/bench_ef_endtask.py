"""What `index.search_ef` changes in the end task: SciFact ranking quality of the dense side and of the hybrid
(BM25 + dense, the product's fusion settings) when the dense candidates come from Chroma's HNSW at each ef, against
exact search.

    .venv/bin/python benchmarks/bench_ef_endtask.py [--ef 100 200 400] [--split dev|test]

Corpus and vectors as `bench_hnsw_ef.py` (SciFact corpus in the eval's <= 240-wordpiece windows, all-MiniLM-L6-v2,
embedding cache). Per claim the dense side asks for `retrieval.candidate_k` windows (what the Retriever asks Chroma
for), ranks documents by their best window, and is fused with the harness BM25 ranking (`evals.suites.scifact`).
`--split dev` uses SciFact *train* claims (where ef is chosen); `--split test` is the held-out report, run once with
the choice frozen. Writes benchmarks/results/ef_endtask_<split>.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_hnsw_ef import build


def pooled(found: list[list[int]], owner: list[str]) -> list[list[str]]:
    """Window ids (best first) -> document ids ranked by their best window."""
    out = []
    for row in found:
        docs: dict[str, None] = {}
        for i in row:
            docs.setdefault(owner[i], None)
        out.append(list(docs))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ef", type=int, nargs="+", default=[100, 200, 400])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    args = ap.parse_args()
    from assistant.config import load_settings
    from evals.datasets import load_scifact
    from evals.suites import bm25_rankings, make_embedder, ranking_metrics, token_windows, tokenizer_counter
    from evals.suites.scifact import DEPTH, WINDOW_TOKENS, _fusion_config, _hybrid

    settings = load_settings()
    sf = load_scifact(settings.eval_data)
    embedder = make_embedder(settings)
    count = tokenizer_counter(embedder.tokenizer)
    owner: list[str] = []
    texts: list[str] = []
    for d in sf.corpus:
        for w in token_windows(d.title, d.sentences, count, WINDOW_TOKENS):
            owner.append(d.doc_id)
            texts.append(w)
    corpus = embedder.embed_texts(texts, show_progress=True)
    queries, qrels = (sf.train_queries, sf.train_qrels) if args.split == "dev" else (sf.queries, sf.qrels)
    qids = list(queries)
    qvecs = embedder.embed_texts([queries[q] for q in qids])
    cfg = _fusion_config(settings)
    k = int(cfg["candidate_k"])
    bm25 = bm25_rankings([d.doc_id for d in sf.corpus], [d.text for d in sf.corpus], queries, DEPTH, False)
    exact = np.argsort(-(qvecs @ corpus.T), axis=1, kind="stable")[:, :k]
    runs: dict[str, list[list[int]]] = {"exact": [list(map(int, r)) for r in exact]}
    with tempfile.TemporaryDirectory() as tmp:
        for ef in args.ef:
            col = build(Path(tmp) / f"ef{ef}", corpus, ef)
            res = [col.query(query_embeddings=[q.tolist()], n_results=k, include=[]) for q in qvecs]
            runs[f"ef{ef}"] = [[int(i) for i in r["ids"][0]] for r in res]
    from evals import metrics

    rows: list[dict[str, Any]] = []
    per_query: dict[str, np.ndarray] = {}
    for name, found in runs.items():
        dense = dict(zip(qids, pooled(found, owner), strict=True))
        exact_sets = [set(r) for r in runs["exact"]]
        row = {"search": name, "window_recall@k_vs_exact": round(float(np.mean(
            [len(set(f) & e) / k for f, e in zip(found, exact_sets, strict=True)])), 4)}
        row.update({f"dense_{m}": round(v, 4) for m, v in ranking_metrics(dense, qrels).items()})
        hybrid = _hybrid(bm25, dense, cfg)
        row.update({f"hybrid_{m}": round(v, 4) for m, v in ranking_metrics(hybrid, qrels).items()})
        per_query[name] = np.array([metrics.ndcg_at_k(hybrid.get(q, []), qrels[q], 10) for q in sorted(qrels)])
        if name != "exact":  # paired bootstrap of the hybrid nDCG@10 change against exact search (claims resampled)
            diff = per_query[name] - per_query["exact"]
            boot = np.random.default_rng(0).choice(diff, size=(2000, len(diff))).mean(axis=1)
            row["hybrid_ndcg@10_minus_exact"] = round(float(diff.mean()), 4)
            row["hybrid_ndcg@10_minus_exact_ci95"] = [round(float(np.percentile(boot, q)), 4) for q in (2.5, 97.5)]
            row["claims_changed_hybrid_ndcg@10"] = int(np.sum(diff != 0))
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = Path(__file__).parent / "results" / f"ef_endtask_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"split": args.split, "queries": len(qids), "windows": len(owner), "candidate_k": k,
                               "fusion": {**cfg, "weights": list(cfg["weights"])}, "rows": rows}, indent=2) + "\n",
                   encoding="utf-8")


if __name__ == "__main__":
    main()
