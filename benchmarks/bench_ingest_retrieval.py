"""Ingest throughput (chunks/s per stage: parse / PII / embed / index) and retrieval latency p50/p95 on a
synthetic case of >= 10,000 chunks. Timings are reported, never asserted.

    .venv/bin/python benchmarks/bench_ingest_retrieval.py [--files 500] [--queries 200] [--out benchmarks/results]

The synthetic corpus is generated deterministically (statements and message exports with UK identifiers), so the
embedding cache (keyed by content hash, outside the clone) makes a second run's embed stage near-free: the
report prints both the cold figures of the first run and says when the cache was warm."""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

NAMES = ["Marek Nowak", "Ionut Popescu", "Jade Carter", "Liam Price", "Aisha Khan", "Tomasz Zielinski",
         "Bogdan Ilie", "Chloe Ward", "Usman Ali", "Nadia Haddad"]
PLACES = ["Northgate bus station", "the Co-op car park", "Station Road", "the chicken shop on Mill Lane",
          "Riverside flats", "the retail park", "Kingsway underpass", "the library steps"]
VERBS = ["met", "called", "messaged", "drove", "paid", "collected", "warned", "followed"]


def _sentence(rng: random.Random, i: int) -> str:
    a, b = rng.sample(NAMES, 2)
    phone = f"07700 900{rng.randrange(1000):03d}"
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    reg = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10, 24)} {''.join(rng.choices(letters, k=3))}"
    return (f"On {rng.randrange(1, 29)} March 2023 at {rng.randrange(7, 23)}:{rng.randrange(60):02d} {a} "
            f"{rng.choice(VERBS)} {b} near {rng.choice(PLACES)} using {phone}; a grey car {reg} was seen "
            f"(entry {i}).")


def make_corpus(root: Path, n_files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for f in range(n_files):
        if f % 5 == 4:
            with (root / f"phone_{f:04d}.csv").open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["message_id", "thread_id", "timestamp", "sender", "recipient", "body"])
                for m in range(60):
                    w.writerow([f"m{m}", f"t{m % 3}", f"2023-03-{1 + m % 28:02d}T{m % 24:02d}:00:00",
                                rng.choice(NAMES).split()[0].lower(), rng.choice(NAMES).split()[0].lower(),
                                _sentence(rng, m).lower()])
        else:
            paras = ["\n".join(_sentence(rng, f * 100 + p * 10 + s) for s in range(6)) for p in range(14)]
            (root / f"statement_{f:04d}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=580)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()

    from assistant.app import App
    from assistant.config import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, args.files)
        chars = sum(p.stat().st_size for p in corpus.iterdir())
        app = App(load_settings(index_dir=Path(tmp) / "index"))
        t0 = time.perf_counter()
        report = app.ingest([corpus], "bench", progress=True)
        wall = time.perf_counter() - t0
        n = report.chunks
        stages = {k: {"seconds": round(v, 2), "chunks_per_s": round(n / v, 1) if v else None}
                  for k, v in report.timings.items()}
        rng = random.Random(11)
        queries = [f"who used {f'07700 900{rng.randrange(1000):03d}'}" if i % 3 == 0 else
                   f"when did {rng.choice(NAMES)} meet someone near {rng.choice(PLACES)}" if i % 3 == 1 else
                   f"grey car seen at {rng.choice(PLACES)}" for i in range(args.queries)]
        app.retrieve("bench", "warm up")
        lat = []
        for q in queries:
            t = time.perf_counter()
            app.retrieve("bench", q)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        result = {
            "files": args.files, "bytes": chars, "chunks": n, "failed": len(report.failed),
            "ingest_wall_s": round(wall, 1), "ingest_chunks_per_s": round(n / wall, 1),
            "stages": stages,
            "stage_share": {k: round(v / sum(report.timings.values()), 3) for k, v in report.timings.items()},
            "pii_chars_per_s": round(chars / report.timings["pii"]) if report.timings["pii"] else None,
            "retrieval_ms": {"n": len(lat), "p50": round(statistics.median(lat), 1),
                             "p95": round(lat[int(0.95 * (len(lat) - 1))], 1), "max": round(lat[-1], 1)},
            "embedding_cache": str(app.settings.cache_dir),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest_retrieval.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
