"""Cost curve of one case's index, embedded Chroma vs a Chroma server on loopback: build time, finalize (catalog +
BM25), dense and hybrid retrieval p50/p95, memory and disk, at growing chunk counts.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000] [--modes embedded server] [--queries 100]
    .venv/bin/python benchmarks/bench_scale.py --modes server --sizes 150000 --keep DIR   # build once, keep DIR
    .venv/bin/python benchmarks/bench_scale.py --reuse DIR [--queries 200]   # only re-time the queries on DIR

--keep DIR builds one (mode, size) into DIR (which must be new) and leaves it there with a `bench.json` saying what it
holds; --reuse DIR skips the build and times the queries on it (a server mode DIR gets its own `chroma run` on its
data), so queries can be re-timed on a quiet machine without the hour-long build. A reused row has no build numbers.

Chunks are synthetic phone-message windows (seeded; about --chars characters of message-like words, a UK phone
number and a timestamp each, with their entity stored the way ingest stores it), written through the product's
`ingest.batches.BatchWriter` in sources of 10,000 chunks (one extraction file each), then `finalize` builds the
keyword index as an ingest does. Vectors are random unit 384-d vectors (the model is not what is measured here; random
vectors are a hard case for HNSW). Questions are random word triples; the query vector is random (no model load).
Each (mode, size) runs in a fresh child process so its memory is its own:
  * build_s / chunks_per_s: the batched write of every chunk (documents, metadata, vectors; the HNSW graph grows);
  * finalize_s: the end-of-ingest step (paged read of the case + BM25 build + persist);
  * dense_*: `IndexStore.dense_query`, k = retrieval.candidate_k, in a fresh store (a new process after ingest);
    dense_first_ms is its first query (HNSW index loaded from disk);
  * hybrid_*: the product's `Retriever.retrieve` (BM25 + dense + fusion + reading the top 8 passages by id);
  * dense_cpu_ms / hybrid_cpu_ms, *_server_cpu_ms: CPU per query of the bench process and of the server, which a
    loaded machine inflates far less than wall times;
  * client_peak_mb / client_rss_mb: the bench process (embedded: it holds Chroma too); server_peak_mb /
    server_rss_mb: the `chroma run` process (server mode), whose HNSW cache holds at most 4 collections;
  * chroma_disk_mb, keyword_disk_mb: Chroma's folder and the persisted catalog + BM25 + manifest.
Writes benchmarks/results/scale.json (merged by mode and size). No assertion: the numbers are for reading. Keep the
sizes small on a shared machine: 100k chunks take a few minutes per mode on 2 busy cores.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import IndexSettings, RetrievalSettings
from assistant.index.manifest import SourceRow
from assistant.index.retrieval import Retriever
from assistant.index.server import ChromaServer
from assistant.index.store import IndexStore
from assistant.ingest.batches import BatchWriter
from assistant.offline import apply_offline_env
from assistant.types import Chunk, Entity

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
DIM = 384
SOURCE_CHUNKS = 10_000
CASE = "scale"
WORDS = ("meet collect parcel tonight garage money van driver address usual place bring cash later call back "
         "tomorrow morning station north road friend phone new number lost keys shop closed wait outside ok yes no "
         "where when why car keys bag food party school park flat door window sorry thanks mate bro sis mum dad "
         "send pic delete this now soon late early done sent got need want").split()


def message_chunks(source: str, first: int, n: int, chars: int, rng: random.Random) -> list[Chunk]:
    out = []
    for i in range(first, first + n):
        phone = f"07700 9{rng.randrange(10**5):05d}"
        head = f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:02 {phone}: "
        body: list[str] = []
        while len(head) + sum(len(w) + 1 for w in body) < chars:
            body.append(rng.choice(WORDS))
        text = head + " ".join(body)
        start = text.index(phone)
        ent = Entity(type="PHONE_NUMBER", start=start, end=start + len(phone), text=phone, score=0.9,
                     normalized="+44" + phone.replace(" ", "")[1:])
        out.append(Chunk(chunk_id=f"{CASE}:{i}", case=CASE, source=source, locator=f"msg {i}", text=text,
                         start=0, end=len(text), content_hash=f"h{i}", source_hash=source, kind="messages",
                         entities=(ent,)))
    return out


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)


class RandomQueryVectors:
    """Stands in for the embedder at query time: a random unit vector per question (retrieval cost, not quality)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def embed_query(self, text: str) -> np.ndarray:
        return unit_vectors(self.rng, 1)[0]


def status_mb(pid: int | str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def disk_mb(path: Path, skip: str = "") -> float:
    files = (p for p in path.rglob("*") if p.is_file() and not (skip and skip in p.parts))
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def pct(times: list[float], q: float) -> float:
    return round(float(np.percentile(times, q)) * 1000, 2)


def build(store: IndexStore, size: int, chars: int) -> float:
    rng, vrng = random.Random(size), np.random.default_rng(size)
    t0 = time.perf_counter()
    for first in range(0, size, SOURCE_CHUNKS):
        n = min(SOURCE_CHUNKS, size - first)
        source = f"extraction-{first // SOURCE_CHUNKS:03d}.csv"
        # BatchWriter as write_version drives it, but each embed call gets fresh random vectors: write_version's
        # vectors-by-id lookup reads ids its look-ahead tagging thread may already have moved to the next batch
        # (seen here: "embeddings: 16" for a 256-chunk batch at the end of a 10k source).
        writer = BatchWriter(store, CASE, SourceRow(source, source, "", n), 256)
        writer.write(message_chunks(source, first, n, chars, rng), list, lambda texts: unit_vectors(vrng, len(texts)),
                     {})
        writer.swap()
    return time.perf_counter() - t0


def run_one(mode: str, size: int, chars: int, queries: int, keep: Path | None = None,
            reuse: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(keep) if keep is not None else scratch
        server = ChromaServer(Path(tmp) / "server", cache_collections=4) if mode == "server" else None
        if server is not None:
            server.start()
        try:
            chroma = IndexSettings(chroma_url=server.url if server else "")
            store = IndexStore(Path(tmp) / "idx", chroma=chroma)
            build_s = 0.0 if reuse else build(store, size, chars)
            t0 = time.perf_counter()
            store.finalize(CASE)  # reused: loads the keyword file (rebuilt if an older format), outside the timings
            finalize_s = time.perf_counter() - t0
            if keep is not None and not reuse:
                meta = {"mode": mode, "chunks": size, "chars": chars, "build_s": round(build_s, 1),
                        "finalize_s": round(finalize_s, 1)}
                (keep / "bench.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
            del store
            gc.collect()
            fresh = IndexStore(Path(tmp) / "idx", chroma=chroma)  # what a question process sees after the ingest
            qv = RandomQueryVectors(1)
            k = RetrievalSettings().candidate_k
            pid = server.proc.pid if server is not None and server.proc is not None else None
            dense: list[float] = []
            for n in range(queries + 1):
                if n == 1:  # CPU seconds per query after the first: this process's and the server's
                    cpu0 = (time.process_time(), cpu_s(pid))
                t0 = time.perf_counter()
                fresh.dense_query(CASE, qv.embed_query(""), k)
                dense.append(time.perf_counter() - t0)
            cpu_dense = [(time.process_time() - cpu0[0]) / queries, (cpu_s(pid) - cpu0[1]) / queries]
            retriever = Retriever(fresh, qv, RetrievalSettings())  # type: ignore[arg-type]
            qrng = random.Random(7)
            hybrid: list[float] = []
            for n in range(queries + 1):
                question = " ".join(qrng.sample(WORDS, 3))
                if n == 1:
                    cpu0 = (time.process_time(), cpu_s(pid))
                t0 = time.perf_counter()
                retriever.retrieve(CASE, question)
                hybrid.append(time.perf_counter() - t0)
            cpu_hybrid = [(time.process_time() - cpu0[0]) / queries, (cpu_s(pid) - cpu0[1]) / queries]
            row: dict[str, Any] = {
                "mode": mode, "chunks": size, "chars": chars, "finalize_s": round(finalize_s, 1),
                "dense_first_ms": round(dense[0] * 1000, 1), "dense_p50_ms": pct(dense[1:], 50),
                "dense_p95_ms": pct(dense[1:], 95), "hybrid_first_ms": round(hybrid[0] * 1000, 1),
                "hybrid_p50_ms": pct(hybrid[1:], 50), "hybrid_p95_ms": pct(hybrid[1:], 95),
                "dense_cpu_ms": round(cpu_dense[0] * 1000, 2), "hybrid_cpu_ms": round(cpu_hybrid[0] * 1000, 2),
                "client_peak_mb": status_mb("self", "VmHWM"), "client_rss_mb": status_mb("self", "VmRSS"),
                "keyword_disk_mb": disk_mb(Path(tmp) / "idx", skip="chroma"),
                "load_1min": round(os.getloadavg()[0], 1),
            }
            if reuse:  # the finalize of a reused folder only loads its keyword file
                row.update(reused=tmp, keyword_load_s=row.pop("finalize_s"))
            else:
                row.update(build_s=round(build_s, 1), chunks_per_s=round(size / build_s))
            if pid is not None:
                row.update(dense_server_cpu_ms=round(cpu_dense[1] * 1000, 2),
                           hybrid_server_cpu_ms=round(cpu_hybrid[1] * 1000, 2))
            if server is not None and server.proc is not None:
                row["server_peak_mb"] = status_mb(server.proc.pid, "VmHWM")
                row["server_rss_mb"] = status_mb(server.proc.pid, "VmRSS")
                row["chroma_disk_mb"] = disk_mb(server.path)
            else:
                row["chroma_disk_mb"] = disk_mb(Path(tmp) / "idx" / "chroma")
            return row
        finally:
            if server is not None:
                server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--modes", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    ap.add_argument("--chars", type=int, default=400, help="characters per chunk (a window of a few messages)")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--keep", type=Path, help="build one (mode, size) into this new folder and keep it")
    ap.add_argument("--reuse", type=Path, help="skip the build: time the queries on a folder made by --keep")
    ap.add_argument("--one", nargs=2, metavar=("MODE", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    apply_offline_env()
    folder: Path | None = args.keep or args.reuse
    if args.one:
        row = run_one(args.one[0], int(args.one[1]), args.chars, args.queries, folder, args.reuse is not None)
        print(json.dumps(row))
        return
    extra: list[str] = []
    if args.reuse is not None:
        held = json.loads((args.reuse / "bench.json").read_text())
        args.modes, args.sizes, args.chars = [held["mode"]], [held["chunks"]], held["chars"]
        extra = ["--reuse", str(args.reuse.resolve())]
    elif args.keep is not None:
        if len(args.modes) * len(args.sizes) != 1 or (args.keep.exists() and any(args.keep.iterdir())):
            ap.error("--keep needs one mode, one size and a new (or empty) folder")
        args.keep.mkdir(parents=True, exist_ok=True)
        extra = ["--keep", str(args.keep.resolve())]
    results = json.loads(args.out.read_text()) if args.out.exists() else {"rows": []}
    for size in args.sizes:
        for mode in args.modes:
            cmd = [sys.executable, __file__, "--one", mode, str(size), "--chars", str(args.chars),
                   "--queries", str(args.queries), *extra]
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            if args.reuse is not None:  # keep the build's numbers beside the re-timed queries
                row.update({k: held[k] for k in ("build_s", "finalize_s") if k in held})
            print(json.dumps(row), flush=True)
            results["rows"] = [r for r in results["rows"] if (r["mode"], r["chunks"]) != (mode, size)] + [row]
            results["rows"].sort(key=lambda r: (r["chunks"], r["mode"]))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
