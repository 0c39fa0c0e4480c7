"""Does the Chroma server's HNSW cache setting bound its memory? Server RSS while querying one case after another.

    .venv/bin/python benchmarks/bench_server_cache.py [--cases 6] [--chunks 10000] [--capacities 1 6]

One `chroma run` (assistant.index.server.ChromaServer) holds --cases collections of --chunks random unit 384-d
vectors (built once, vectors only). Then, for each capacity, the server is restarted on the same folder with
`hnsw_index_pool_cache_config.memory.capacity` = capacity, and each case is queried in turn (first query: the
case's HNSW index is loaded; timed) while the server's RSS is read after each. With the bound, RSS should stop
growing after `capacity` cases. Writes benchmarks/results/server_cache.json. No assertion.
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

from assistant.index.server import ChromaServer
from assistant.offline import apply_offline_env
from benchmarks.bench_scale import status_mb, unit_vectors

RESULTS = Path(__file__).resolve().parent / "results" / "server_cache.json"


def client(server: ChromaServer) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.HttpClient(host=server.host, port=server.port, settings=ChromaSettings(anonymized_telemetry=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=6)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--capacities", type=int, nargs="+", default=[1, 6])
    args = ap.parse_args()
    apply_offline_env()
    rng = np.random.default_rng(0)
    result: dict[str, Any] = {"cases": args.cases, "chunks_per_case": args.chunks, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "server"
        t0 = time.perf_counter()
        with ChromaServer(path, cache_collections=args.cases) as server:
            c = client(server)
            for case in range(args.cases):
                col = c.get_or_create_collection(f"case_{case:03d}", embedding_function=None,
                                                 metadata={"hnsw:space": "cosine", "hnsw:search_ef": 400})
                for start in range(0, args.chunks, 1000):
                    n = min(1000, args.chunks - start)
                    col.add(ids=[f"{case}:{start + i}" for i in range(n)], embeddings=unit_vectors(rng, n).tolist())
        result["build_s"] = round(time.perf_counter() - t0, 1)
        for capacity in args.capacities:
            with ChromaServer(path, cache_collections=capacity) as server:
                assert server.proc is not None
                c = client(server)
                run: dict[str, Any] = {"capacity": capacity, "rss_mb_start": status_mb(server.proc.pid, "VmRSS"),
                                       "rss_mb_after_case": [], "first_query_ms": []}
                for case in range(args.cases):
                    col = c.get_collection(f"case_{case:03d}")
                    t0 = time.perf_counter()
                    col.query(query_embeddings=[unit_vectors(rng, 1)[0].tolist()], n_results=50, include=[])
                    run["first_query_ms"].append(round((time.perf_counter() - t0) * 1000, 1))
                    run["rss_mb_after_case"].append(status_mb(server.proc.pid, "VmRSS"))
                run["peak_mb"] = status_mb(server.proc.pid, "VmHWM")
                result["runs"].append(run)
                print(json.dumps(run), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
