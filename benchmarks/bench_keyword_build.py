"""The keyword index alone, ours (keywords/scoring.py: streamed build, bincount scoring) against bm25s 0.3.16 (what
the product used before: whole-corpus build, np.add.at scoring), on the same token lists, in one process, alternating,
each (implementation, size) in a fresh child process so its peak memory is its own.

    .venv/bin/python benchmarks/bench_keyword_build.py [--sizes 10000 100000 150000 1000000] [--bm25s-max 300000]

Documents are synthetic token lists drawn per document (seeded): --tokens tokens, 80% from a Zipf(1.2) vocabulary of
50,000 terms and 2 unique to the document (a phone number, an id), so postings have a long tail; queries: 4 terms drawn
the same way. Tokenisation is not measured (the same cost for both; bench_scale's finalize includes it). Reports:
  * build_s, and build_peak_mb: the child's peak RSS (VmHWM) less its RSS before the build, inputs included (bm25s
    needs every document's token list at once; ours receives them one at a time, as the store streams a case, and
    writes the keyword file as the store does: sorted runs of --block entries spilled, merged into the file);
  * index_mb (the score matrix's arrays) and query p50/p95 ms at the retriever's depth (k = 50).
With --ledger, a third row "ledger" is finalize's path since issue 19's session 17 (keywords/merged.py): the documents
(their tokens joined by spaces) are first counted per commit batch of 256 into a case's term ledger as the ingest does
(keywords/counted.py; its time is `ingest_s`, not part of the build), then build_s / build_peak_mb measure the merge
of the ledger's records into the keyword file. bm25s runs only up to --bm25s-max documents (its 1M build needs ~3.7
GB, issue 19). Writes
benchmarks/results/keyword_build.json. No assertion: the numbers are for reading."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.index.keywords.scoring import BLOCK, Bm25Builder
from assistant.index.persisted import load_bm25, save_bm25_parts

RESULTS = Path(__file__).resolve().parent / "results" / "keyword_build.json"
VOCAB = 50_000


def documents(n: int, tokens: int, seed: int = 1) -> Iterator[list[str]]:
    rng = np.random.default_rng(seed)
    for i in range(n):
        common = np.minimum(rng.zipf(1.2, size=int(tokens * 0.8)), VOCAB)
        yield [f"w{t}" for t in common] + [f"u{i}x{j}" for j in range(tokens - len(common))][:2]


def queries(n: int) -> list[list[str]]:
    rng = np.random.default_rng(99)
    return [[f"w{t}" for t in np.minimum(rng.zipf(1.2, size=4), VOCAB)] for _ in range(n)]


def timed_queries(search: Any, qs: list[list[str]]) -> dict[str, float]:
    times = []
    for q in qs:
        t0 = time.perf_counter()
        search(q)
        times.append(time.perf_counter() - t0)
    return {"query_p50_ms": round(float(np.percentile(times, 50)) * 1000, 2),
            "query_p95_ms": round(float(np.percentile(times, 95)) * 1000, 2)}


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def ours(n: int, tokens: int, qs: list[list[str]], block: int) -> dict[str, Any]:
    """The store's path: documents added one at a time, sorted runs of `block` entries spilled, merged into the
    keyword file a term range at a time (persisted.save_bm25_parts), then the file mapped for the queries."""
    with tempfile.TemporaryDirectory(prefix="bench-kw-") as tmp:
        base = rss_mb("VmRSS")
        t0 = time.perf_counter()
        builder = Bm25Builder(block, spill_dir=Path(tmp))
        for i, doc in enumerate(documents(n, tokens)):
            builder.add(str(i), doc)
        built, pieces, entries = builder.finish_parts()
        save_bm25_parts(Path(tmp), "bench", (0, 0, ""), built, pieces, entries)
        build_s = time.perf_counter() - t0
        peak = rss_mb("VmHWM") - base
        index = load_bm25(Path(tmp), "bench", (0, 0, ""))
        assert index is not None
        kept = index.data.nbytes + index.indices.nbytes + index.indptr.nbytes
        return {"build_s": round(build_s, 1), "build_peak_mb": round(peak, 1), "index_mb": round(kept / 2**20, 1),
                "block": block, **timed_queries(lambda q: index.search_tokens(q, 50), qs)}


def from_ledger(n: int, tokens: int, qs: list[list[str]], block: int) -> dict[str, Any]:
    """Finalize's path: each batch of 256 documents counted and recorded at "ingest", then merged into the file."""
    from assistant.index.keywords.counted import count_batch
    from assistant.index.keywords.ledger import TermLedger
    from assistant.index.keywords.merged import merged_parts

    with tempfile.TemporaryDirectory(prefix="bench-kw-") as tmp:
        ledger, batch = TermLedger(Path(tmp), "bench"), []
        t0 = time.perf_counter()
        for i, doc in enumerate(documents(n, tokens)):
            batch.append((str(i), " ".join(doc), {"source": "bench.csv"}))
            if len(batch) == 256 or i == n - 1:
                ledger.record("bench.csv", "s", [b[0] for b in batch], count_batch(batch))
                batch = []
        ingest_s = time.perf_counter() - t0
        base = rss_mb("VmRSS")
        t0 = time.perf_counter()
        merged = merged_parts(ledger, {"bench.csv": ("s", n)}, None, 1000, Path(tmp), block)
        assert merged is not None
        save_bm25_parts(Path(tmp), "bench", (0, 0, ""), *merged)
        build_s = time.perf_counter() - t0
        peak = rss_mb("VmHWM") - base
        index = load_bm25(Path(tmp), "bench", (0, 0, ""))
        assert index is not None
        kept = index.data.nbytes + index.indices.nbytes + index.indptr.nbytes
        return {"ingest_s": round(ingest_s, 1), "build_s": round(build_s, 1), "build_peak_mb": round(peak, 1),
                "index_mb": round(kept / 2**20, 1), "ledger_mb": round(ledger.path.stat().st_size / 2**20, 1),
                **timed_queries(lambda q: index.search_tokens(q, 50), qs)}


def reference(n: int, tokens: int, qs: list[list[str]]) -> dict[str, Any]:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    base = rss_mb("VmRSS")
    t0 = time.perf_counter()
    corpus = list(documents(n, tokens))
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    build_s = time.perf_counter() - t0
    peak = rss_mb("VmHWM") - base
    del corpus
    kept = sum(np.asarray(model.scores[k]).nbytes for k in ("data", "indices", "indptr"))
    return {"build_s": round(build_s, 1), "build_peak_mb": round(peak, 1), "index_mb": round(kept / 2**20, 1),
            **timed_queries(lambda q: model.retrieve([q], k=50, show_progress=False), qs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 150_000])
    ap.add_argument("--tokens", type=int, default=55, help="tokens per document (a ~400-character message window)")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--bm25s-max", type=int, default=300_000)
    ap.add_argument("--block", type=int, default=BLOCK, help="entries per spilled run (scoring.BLOCK)")
    ap.add_argument("--ledger", action="store_true", help="also the ledger merge (finalize's path, issue 19)")
    ap.add_argument("--one", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    qs = queries(args.queries)
    if args.one:
        n = int(args.one[1])
        impls = {"ours": lambda: ours(n, args.tokens, qs, args.block), "bm25s": lambda: reference(n, args.tokens, qs),
                 "ledger": lambda: from_ledger(n, args.tokens, qs, args.block)}
        row = impls[args.one[0]]()
        print(json.dumps(row))
        return
    rows = []
    for n in args.sizes:
        row: dict[str, Any] = {"docs": n}
        for impl in ["ours", *(["bm25s"] if n <= args.bm25s_max else []), *(["ledger"] if args.ledger else [])]:
            out = subprocess.run([sys.executable, __file__, "--one", impl, str(n), "--tokens", str(args.tokens),
                                  "--queries", str(args.queries), "--block", str(args.block)],
                                 check=True, capture_output=True, text=True)
            row[impl] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
