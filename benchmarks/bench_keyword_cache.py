"""Many large cases behind a bounded keyword cache: memory and cold first-query cost of the question side when a
reviewer moves across N cases of M chunks with `retrieval.catalog_cache_cases` = C (issue 19: 20 cases x 50k, C 4).

    .venv/bin/python benchmarks/bench_keyword_cache.py [--cases 20] [--chunks 50000] [--capacity 4] [--rounds 2]

One synthetic case of --chunks message windows (bench_scale's generator: ~400 characters, a phone number, a
timestamp and its entity) is indexed with the product's streamed build (keywords/stream.py); its arrays are saved,
under each case's own manifest stamp, as every case's keyword file (persisted.save_bm25), so N cases cost one build.
A fresh child process (a question server after ingest) then asks one question per case in turn, --rounds times,
through `IndexStore.keyword_index` + a BM25 search at the retriever's depth, and records:
  * cold_ms: the first question of a case not in the cache (file load + search); warm_ms: a cached case's;
  * rss_mb after each question and the process peak: flat once C cases are cached means the cache bounds memory.
Vectors are not involved: the Chroma server's side (HNSW cache by collections) is bench_server_cache.py's, and its
first dense query of a case is bench_scale.py's dense_first_ms. Writes benchmarks/results/keyword_cache.json.
No assertion: the numbers are for reading."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import RetrievalSettings
from assistant.index.keywords.scoring import Bm25Index
from assistant.index.keywords.stream import build_keywords
from assistant.index.keywords.strings import Strings
from assistant.index.manifest import SourceRow
from assistant.index.persisted import save_bm25
from assistant.index.store import IndexStore, chunk_metadata
from benchmarks.bench_scale import WORDS, message_chunks, pct, status_mb

RESULTS = Path(__file__).resolve().parent / "results" / "keyword_cache.json"


def prepare(index_dir: Path, cases: int, chunks: int) -> dict[str, float]:
    store = IndexStore(index_dir)
    made = message_chunks("extraction.csv", 0, chunks, 400, random.Random(chunks))
    t0 = time.perf_counter()
    template = build_keywords((c.chunk_id, c.text, chunk_metadata(c)) for c in made)
    build_s = time.perf_counter() - t0
    for n in range(cases):
        case = f"case{n:02d}"
        row = SourceRow("extraction.csv", f"{n:064d}", "", chunks)
        store.manifest.begin(case, row)
        store.manifest.complete(case, row)
        ids = Strings.of([f"{case}:{i}" for i in range(chunks)])
        save_bm25(index_dir, case, store.stamp(case), Bm25Index(ids, template.terms, template.term_ids, template.data,
                                                                 template.indices, template.indptr, template.columns))
    return {"build_s": round(build_s, 1), "file_mb": round((index_dir / "bm25" / "case00.bm25.npz").stat().st_size
                                                           / 2**20, 1)}


def ask(index_dir: Path, cases: int, capacity: int, rounds: int) -> dict[str, Any]:
    store = IndexStore(index_dir, catalog_cache_cases=capacity)
    depth = RetrievalSettings().candidate_k
    rng = random.Random(3)
    base = status_mb("self", "VmRSS")
    cold: list[float] = []
    warm: list[float] = []
    rss: list[float] = []
    for _ in range(rounds):
        for n in range(cases):
            case = f"case{n:02d}"
            cached = case in store.cached_keywords()
            t0 = time.perf_counter()
            store.keyword_index(case).search(" ".join(rng.sample(WORDS, 3)), depth)
            (warm if cached else cold).append(time.perf_counter() - t0)
            rss.append(status_mb("self", "VmRSS"))
        for n in range(min(cases, capacity)):  # questions to cases still cached
            case = f"case{cases - 1 - n:02d}"
            t0 = time.perf_counter()
            store.keyword_index(case).search(" ".join(rng.sample(WORDS, 3)), depth)
            warm.append(time.perf_counter() - t0)
    return {"rss_before_mb": base, "rss_after_each_mb": rss, "rss_max_mb": max(rss),
            "peak_mb": status_mb("self", "VmHWM"), "cold_p50_ms": pct(cold, 50), "cold_p95_ms": pct(cold, 95),
            "cold_max_ms": round(max(cold) * 1000, 1), "warm_p50_ms": pct(warm, 50), "warm_p95_ms": pct(warm, 95),
            "cached_at_end": len(store.cached_keywords())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--chunks", type=int, default=50_000)
    ap.add_argument("--capacity", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ask", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ask:
        print(json.dumps(ask(args.ask, args.cases, args.capacity, args.rounds)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-kwcache-") as tmp:
        built = prepare(Path(tmp), args.cases, args.chunks)
        out = subprocess.run([sys.executable, __file__, "--ask", tmp, "--cases", str(args.cases), "--capacity",
                              str(args.capacity), "--rounds", str(args.rounds)], check=True, capture_output=True,
                             text=True)
        row = {"cases": args.cases, "chunks": args.chunks, "capacity": args.capacity, **built,
               **json.loads(out.stdout.strip().splitlines()[-1])}
    print(json.dumps({k: v for k, v in row.items() if k != "rss_after_each_mb"}))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"command": " ".join(sys.argv), "row": row}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
