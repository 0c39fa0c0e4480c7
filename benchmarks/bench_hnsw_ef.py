"""Recall of Chroma's HNSW against exact search on real embeddings, per query-time ef (`hnsw:search_ef`), to choose
`index.search_ef` by measurement.

    .venv/bin/python benchmarks/bench_hnsw_ef.py [--ef 10 20 40 60 100 200] [--builds 2]

Corpus: the SciFact corpus (BEIR test, ../shared/datasets through the `eval_data` setting) cut into the eval's
<= 240-wordpiece windows and embedded by the packaged all-MiniLM-L6-v2 (the embedding cache makes this quick where
the SciFact eval ran; a cold cache embeds them, minutes). Queries: SciFact *train* claims choose ef (dev), the
*test* claims report it (held out). Exact top-k is cosine over the whole matrix; recall@k is the share of exact
top-k ids HNSW returns, at k=10 and at k=50 (what the retriever asks Chroma for: `retrieval.candidate_k`).
A returned item counts as found when its cosine reaches the exact k-th best (duplicate windows tie, so ids alone
would count a tie as a miss). Each ef gets its own collection, created the way the product creates one (metadata
`hnsw:search_ef`; a later `modify` takes effect only once the index is loaded again: bench_ef_reload.py). `--builds 2`
builds each twice from the same vectors in the same order and counts test queries whose top 10 ids differ between
the builds (nondeterministic HNSW construction is what makes nDCG move run to run).
Writes benchmarks/results/hnsw_ef.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def exact_kth(matrix: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The k-th best exact cosine of each query (ties make ids ambiguous; similarities are not)."""
    sims = queries @ matrix.T
    return np.asarray(-np.partition(-sims, k - 1, axis=1)[:, k - 1])


def build(path: Path, matrix: np.ndarray, ef: int) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_or_create_collection("ef_bench", embedding_function=None,
                                          metadata={"hnsw:space": "cosine", "hnsw:search_ef": ef})
    for start in range(0, len(matrix), 1000):
        part = matrix[start : start + 1000]
        col.add(ids=[str(i) for i in range(start, start + len(part))], embeddings=part.tolist())
    return col


def query_all(col: Any, queries: np.ndarray, k: int) -> tuple[list[list[int]], list[list[float]], list[float]]:
    found, sims, times = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        res = col.query(query_embeddings=[q.tolist()], n_results=k, include=["distances"])
        times.append(time.perf_counter() - t0)
        found.append([int(i) for i in res["ids"][0]])
        sims.append([1.0 - float(d) for d in res["distances"][0]])
    return found, sims, times


def recall(sims: list[list[float]], kth: np.ndarray, k: int) -> float:
    """Share of the k returned whose cosine reaches the exact k-th best (1.0 = as good as exact search)."""
    return float(np.mean([sum(s >= kth[i] - 1e-5 for s in row[:k]) / k for i, row in enumerate(sims)]))


def load_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from assistant.config import load_settings
    from evals.datasets import load_scifact
    from evals.suites import make_embedder, token_windows, tokenizer_counter

    settings = load_settings()
    sf = load_scifact(settings.eval_data)
    embedder = make_embedder(settings)
    count = tokenizer_counter(embedder.tokenizer)
    texts = [w for d in sf.corpus for w in token_windows(d.title, d.sentences, count, 240)]
    corpus = embedder.embed_texts(texts, show_progress=True)
    dev = embedder.embed_texts(list(sf.train_queries.values()))
    test = embedder.embed_texts(list(sf.queries.values()))
    return corpus, dev, test


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ef", type=int, nargs="+", default=[10, 20, 40, 60, 100, 200])
    ap.add_argument("--builds", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "hnsw_ef.json"))
    args = ap.parse_args()
    corpus, dev, test = load_vectors()
    ks = (10, 50)
    exact = {(split, k): exact_kth(corpus, q, k) for split, q in (("dev", dev), ("test", test)) for k in ks}
    rows: list[dict[str, Any]] = []
    build_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for ef in args.ef:
            cols = []
            for b in range(args.builds):
                t0 = time.perf_counter()
                cols.append(build(Path(tmp) / f"ef{ef}-b{b}", corpus, ef))
                build_s.append(time.perf_counter() - t0)
            row: dict[str, Any] = {"ef": ef}
            first: list[list[int]] = []
            for split, q in (("dev", dev), ("test", test)):
                for k in ks:
                    found, sims, times = query_all(cols[0], q, k)
                    row[f"{split}_recall@{k}"] = round(recall(sims, exact[(split, k)], k), 4)
                    row[f"{split}_p50_ms@{k}"] = round(float(np.percentile(times, 50)) * 1000, 2)
                    row[f"{split}_p95_ms@{k}"] = round(float(np.percentile(times, 95)) * 1000, 2)
                    if split == "test" and k == 10:
                        first = found
            tops = [query_all(col, test, 10)[0] for col in cols[1:]]
            row["test_top10_differing_between_builds"] = sum(
                any(t[i] != first[i] for t in tops) for i in range(len(test)))
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "corpus": "SciFact corpus, 240-wordpiece windows, all-MiniLM-L6-v2", "vectors": len(corpus),
        "dev_queries": len(dev), "test_queries": len(test), "build_s_median": round(float(np.median(build_s)), 2),
        "builds": args.builds, "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
