"""Query-time ef on a kept server index: CPU per dense query (server and client) and recall@k against exact search,
per ef, set on the existing collection with `modify(configuration=...)`, measured before and after the server loads
the index again.

    .venv/bin/python benchmarks/bench_ef_reload.py COPY [--ef 200 100 400] [--queries 200]

COPY is a *scratch copy* of a folder made by `bench_scale.py --keep` (server mode): its collection's configuration is
changed, so never point it at a folder that others time. Query vectors are random unit vectors (seeded); exact
top-k is cosine over every stored vector (read once, cached beside COPY as exact.npz). Each ef: modify, time the
queries on the running server (its index loaded before the modify: the old ef), restart the server, time them again.
Writes benchmarks/results/ef_reload.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import CASE, cpu_s, pct

from assistant.index.server import ChromaServer
from assistant.offline import apply_offline_env


def connect(folder: Path) -> tuple[ChromaServer, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    server = ChromaServer(folder / "server", cache_collections=4).start()
    client = chromadb.HttpClient(host=server.host, port=server.port,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    return server, client.get_collection(f"case_{CASE}")


def exact_top(col: Any, path: Path, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        ids: list[str] = []
        parts: list[np.ndarray] = []
        while (batch := col.get(limit=5000, offset=len(ids), include=["embeddings"]))["ids"]:
            ids += batch["ids"]
            parts.append(np.asarray(batch["embeddings"], dtype=np.float32))
        matrix = np.vstack(parts)
        rng = np.random.default_rng(11)
        queries = rng.standard_normal((n, matrix.shape[1])).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        top = np.asarray(ids)[np.argsort(-(queries @ matrix.T), axis=1)[:, :k]]
        np.savez(path, queries=queries, top=top)
    held = np.load(path)
    return held["queries"], held["top"]


def timed(server: ChromaServer, col: Any, queries: np.ndarray, top: np.ndarray, k: int) -> dict[str, Any]:
    pid = server.proc.pid if server.proc is not None else None
    for q in queries[:5]:  # the first query after a start loads the index
        col.query(query_embeddings=[q.tolist()], n_results=k, include=["distances"])
    server0, client0, walls, found = cpu_s(pid), time.process_time(), [], []
    for q, exact in zip(queries, top, strict=True):
        t0 = time.perf_counter()
        res = col.query(query_embeddings=[q.tolist()], n_results=k, include=["distances"])
        walls.append(time.perf_counter() - t0)
        found.append(len(set(res["ids"][0]) & set(exact)) / k)
    n = len(queries)
    return {"recall": round(float(np.mean(found)), 4), "server_cpu_ms": round((cpu_s(pid) - server0) / n * 1000, 2),
            "client_cpu_ms": round((time.process_time() - client0) / n * 1000, 2), "p50_ms": pct(walls, 50),
            "p95_ms": pct(walls, 95), "load_1min": round(os.getloadavg()[0], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("copy", type=Path)
    ap.add_argument("--ef", type=int, nargs="+", default=[200, 100, 400])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=50, help="candidates asked (retrieval.candidate_k)")
    args = ap.parse_args()
    apply_offline_env()
    server, col = connect(args.copy)
    rows: list[dict[str, Any]] = []
    try:
        queries, top = exact_top(col, args.copy / "exact.npz", args.queries, args.k)
        col.query(query_embeddings=[queries[0].tolist()], n_results=args.k)  # load the index at its stored ef
        for ef in args.ef:
            before = col.configuration_json["hnsw"]["ef_search"]
            col.modify(configuration={"hnsw": {"ef_search": ef}})
            row: dict[str, Any] = {"ef": ef, "loaded_with": before, "same_server": timed(server, col, queries, top,
                                                                                         args.k)}
            server.stop()
            server, col = connect(args.copy)
            row["after_restart"] = timed(server, col, queries, top, args.k)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
    out = Path(__file__).parent / "results" / "ef_reload.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"copy": str(args.copy), "k": args.k, "queries": args.queries, "rows": rows}, indent=2)
                   + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
