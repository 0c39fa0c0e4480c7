"""What a dense query costs the Chroma server with and without its collection-description cache (server.py).

    .venv/bin/python benchmarks/bench_query_cpu.py [--chunks 30000] [--queries 400] [--pairs 3] [--dir DIR]

One folder holds a collection of --chunks random unit 384-d vectors (built once; kept in --dir for reuse). For each
of --pairs rounds the server is started twice on it, alternately without (Chroma's default) and with the cache;
after 20 warm-up queries, --queries top-10 queries are timed on the client, and the server's CPU (user + system,
/proc) is read before and after. Prints a JSON line per run (with the load average) and the medians; writes
benchmarks/results/query_cpu.json. Random vectors cost the HNSW walk more than real MiniLM vectors do, so the
absolute figures overstate a real case's; the difference between the two settings is what this measures.
No assertion.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.index.server import DESCRIPTIONS_CACHED, ChromaServer
from assistant.offline import apply_offline_env
from benchmarks.bench_scale import cpu_s, unit_vectors
from benchmarks.bench_server_cache import client

RESULTS = Path(__file__).resolve().parent / "results" / "query_cpu.json"
WARMUP = 20


def build(server: ChromaServer, chunks: int, rng: np.random.Generator) -> Any:
    col = client(server).get_or_create_collection("bench_query_cpu", metadata={"hnsw:space": "cosine"})
    for start in range(col.count(), chunks, 5000):
        n = min(5000, chunks - start)
        col.add(ids=[f"c{i}" for i in range(start, start + n)], embeddings=unit_vectors(rng, n))
    return col


def run(folder: Path, chunks: int, queries: np.ndarray, descriptions: int, rng: np.random.Generator) -> dict[str, Any]:
    with ChromaServer(folder, descriptions=descriptions) as server:
        col = build(server, chunks, rng)
        for vector in queries[:WARMUP]:
            col.query(query_embeddings=[vector], n_results=10)
        before, timings = cpu_s(server.pid()), []
        for vector in queries:
            started = time.perf_counter()
            col.query(query_embeddings=[vector], n_results=10)
            timings.append((time.perf_counter() - started) * 1000)
        used = cpu_s(server.pid()) - before
    return {"cache": descriptions > 0, "server_cpu_ms": round(used / len(queries) * 1000, 2),
            "p50_ms": round(float(np.percentile(timings, 50)), 2),
            "p95_ms": round(float(np.percentile(timings, 95)), 2),
            "load": Path("/proc/loadavg").read_text().split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=30000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="keep the collection here (default: a temporary one)")
    args = parser.parse_args()
    apply_offline_env()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-query-cpu-"))
    rng = np.random.default_rng(7)
    queries = unit_vectors(rng, args.queries)
    runs = []
    for _ in range(args.pairs):
        for descriptions in (0, DESCRIPTIONS_CACHED):
            runs.append(run(folder, args.chunks, queries, descriptions, rng))
            print(json.dumps(runs[-1]), flush=True)
    summary = {key: {"off": statistics.median(r[key] for r in runs if not r["cache"]),
                     "on": statistics.median(r[key] for r in runs if r["cache"])}
               for key in ("server_cpu_ms", "p50_ms", "p95_ms")}
    print(json.dumps({"chunks": args.chunks, "queries": args.queries, "pairs": args.pairs, "median": summary}))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"chunks": args.chunks, "runs": runs, "median": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
