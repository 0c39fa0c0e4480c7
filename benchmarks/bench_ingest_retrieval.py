"""Ingest throughput (chunks/s and share of time per stage: parse / PII / embed / index) and retrieval latency
p50/p95 on a synthetic case of >= 10,000 chunks. Timings are reported, never asserted.

    .venv/bin/python benchmarks/bench_ingest_retrieval.py [--files 580] [--sample 60] [--queries 200]

Phase 1 ingests a sample through the full pipeline with the embedding cache off, so every stage does its real
work. Phase 2 builds the >= 10,000-chunk case for the latency curve; it skips PII tagging (already measured) and
reuses cached embeddings, so it is quick on a second run. The corpus is generated deterministically: statements
and message exports full of UK identifiers."""

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


class _NoTagger:
    """Phase 2 only: the latency index skips PII tagging (measured in phase 1) to keep the run short."""

    def tag_many(self, texts: list[str]) -> list[list[object]]:
        return [[] for _ in texts]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=580, help="files in the latency corpus (about 17 chunks each)")
    ap.add_argument("--sample", type=int, default=60, help="files ingested through the full pipeline, cache off")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()

    from assistant.app import App
    from assistant.config import load_settings
    from assistant.ingest.pipeline import Ingestor

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, args.files)
        sample = Path(tmp) / "sample"
        sample.mkdir()
        for path in sorted(corpus.iterdir())[: args.sample]:
            (sample / path.name).write_bytes(path.read_bytes())
        chars = sum(p.stat().st_size for p in sample.iterdir())

        # Phase 1: throughput of the real pipeline, embedding cache off so every stage does its full work.
        cold = load_settings(index_dir=Path(tmp) / "index1")
        cold.embedding.cache = False
        app = App(cold)
        app.pii.tag("warm up the tagger")
        app.embedder.embed_query("warm up the embedder")
        t0 = time.perf_counter()
        report = app.ingest([sample], "sample", progress=True)
        wall = time.perf_counter() - t0
        n = report.chunks
        total = sum(report.timings.values())
        stages = {k: {"seconds": round(v, 2), "chunks_per_s": round(n / v, 1) if v else None,
                      "share": round(v / total, 3)} for k, v in report.timings.items()}

        # Phase 2: a >= 10,000-chunk case for retrieval latency (embeddings cached by content hash across runs).
        app2 = App(load_settings(index_dir=Path(tmp) / "index2"))
        app2.ingestor  # noqa: B018 - build it, then swap the tagger
        big = Ingestor(app2.settings, app2.store, app2.embedder, _NoTagger(), app2.tokenizer)
        big_report = big.ingest([corpus], "bench", progress=True)
        rng = random.Random(11)
        queries = [f"who used {f'07700 900{rng.randrange(1000):03d}'}" if i % 3 == 0 else
                   f"when did {rng.choice(NAMES)} meet someone near {rng.choice(PLACES)}" if i % 3 == 1 else
                   f"grey car seen at {rng.choice(PLACES)}" for i in range(args.queries)]
        app2.retrieve("bench", "warm up")
        lat = []
        for q in queries:
            t = time.perf_counter()
            app2.retrieve("bench", q)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        result = {
            "phase1_full_pipeline": {
                "files": args.sample, "bytes": chars, "chunks": n, "failed": len(report.failed),
                "wall_s": round(wall, 1), "chunks_per_s": round(n / wall, 1), "stages": stages,
                "pii_chars_per_s": round(chars / report.timings["pii"]) if report.timings["pii"] else None,
                "embed_chars_per_s": round(chars / report.timings["embed"]) if report.timings["embed"] else None,
            },
            "phase2_latency": {
                "chunks": big_report.chunks, "files": args.files,
                "retrieval_ms": {"n": len(lat), "p50": round(statistics.median(lat), 1),
                                 "p95": round(lat[int(0.95 * (len(lat) - 1))], 1), "max": round(lat[-1], 1)},
            },
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest_retrieval.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
