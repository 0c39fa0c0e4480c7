"""Cross-case identifier index at scale: rebuild time from stored chunks and look-up latency/memory over 1,200
synthetic cases (issue 17 asks for a look-up p95 <= 50 ms and the memory stated).

    .venv/bin/python benchmarks/bench_links.py [--cases 1200] [--chunks 40] [--queries 500]

The synthetic corpus is generated (seeded): each chunk is ~900 characters of filler prose holding identifiers drawn
from pools, so some values recur across many cases (like a phone seen in 30 closed cases) and most in one or two,
written in varied forms (national / international phones, plates with and without the space, dashed IMEIs). The
rebuild runs the same code as `assistant links --rebuild` (`links.indexer.rebuild`) on those chunks; look-ups run
`LinkLookup.lookup` as a reviewer (real UserStore, real hash-chained AuditLog, one audit record per look-up), half
on values that exist and half on values that do not. Writes benchmarks/results/links.json; curves over case counts
come from running it with several --cases values. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.access.audit import AuditLog
from assistant.access.auth import UserStore
from assistant.config import LinksSettings
from assistant.links.indexer import ChunkView, rebuild
from assistant.links.lookup import LinkLookup
from assistant.links.store import LinkStore

RESULTS = Path(__file__).resolve().parent / "results" / "links.json"
FILLER = ("The officer attended the address and spoke to the occupant, who said that nobody else lived there and that "
          "the car outside belonged to a friend. Enquiries were made with neighbours and the council. ")


def luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def pools(rng: random.Random, size: int) -> dict[str, list[str]]:
    letters = "ABCDEFGHJKLMNOPRSTUVWXYZ"
    return {
        "phone": [f"07700 9{rng.randrange(100000):05d}" for _ in range(size)],
        "plate": [f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10, 80)} "
                  f"{''.join(rng.choice(letters) for _ in range(3))}" for _ in range(size)],
        "imei": [luhn_complete(f"35{rng.randrange(10**12):012d}") for _ in range(size)],
        "email": [f"user{i}.{rng.randrange(10**6)}@example.org" for i in range(size)],
        "handle": [f"@h{i}_{rng.randrange(10**5)}" for i in range(size)],
    }


def written(kind: str, value: str, rng: random.Random) -> str:
    if kind == "phone" and rng.random() < 0.5:
        return "+44 " + value[1:]
    if kind == "plate" and rng.random() < 0.5:
        return value.replace(" ", "").lower()
    if kind == "imei" and rng.random() < 0.5:
        return f"{value[:2]}-{value[2:8]}-{value[8:14]}-{value[14]}"
    return value


def pick(rng: random.Random, pool: list[str]) -> str:
    """Zipf-like: a few values recur across many cases, most are rare."""
    return pool[min(len(pool) - 1, int(rng.paretovariate(1.2)) - 1)] if rng.random() < 0.3 else rng.choice(pool)


def synthetic_case(case: str, chunks: int, pool: dict[str, list[str]], seed: int) -> list[ChunkView]:
    rng = random.Random(seed)
    out = []
    for i in range(chunks):
        parts = [FILLER * 2]
        for kind in rng.sample(list(pool), 3):
            parts.append(f"Noted {kind} {written(kind, pick(rng, pool[kind]), rng)}. ")
        parts.append(FILLER * 2)
        out.append(ChunkView(f"{case}:{i // 10:02d}:{i:04d}", f"source_{i // 10:02d}.txt",
                             f"lines {i * 10}-{i * 10 + 12}", "".join(parts)))
    return out


def seed_of(case: str, seed: int) -> int:
    return int(case.split("-")[1]) * 7919 + seed


def present_form(rng: random.Random, store: LinkStore, case: str) -> str:
    """A value indexed in `case`, written in one of its other forms."""
    value, kind = rng.choice(sorted(store.case_values(case).items()))
    if kind == "phone":
        return "0" + value[3:8] + " " + value[8:]
    if kind == "vehicle":
        return value[:4] + " " + value[4:]
    if kind == "imei":
        return f"{value[:2]} {value[2:8]} {value[8:14]} {value[14]}"
    return value.upper() if kind == "email" else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--chunks", type=int, default=40, help="chunks per case")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = pools(rng, max(1000, args.cases * 20))
    cases = [f"case-{i:04d}" for i in range(args.cases)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LinkStore(root / "links.sqlite")
        t0 = time.perf_counter()
        _, rows = rebuild(store, cases, lambda c: synthetic_case(c, args.chunks, pool, seed_of(c, args.seed)),
                          progress=False)
        rebuild_s = time.perf_counter() - t0
        users = UserStore(root / "users.sqlite", rounds=4)
        users.add_user("rev", "bench-pass-1", "reviewer")
        for c in cases[:5]:
            users.assign("rev", c)
        lookup = LinkLookup(store, users, AuditLog(root / "audit.sqlite"), LinksSettings())
        queries = [present_form(rng, store, rng.choice(cases)) for _ in range(args.queries // 2)]
        queries += [f"07700 8{rng.randrange(100000):05d}" for _ in range(args.queries - len(queries))]  # absent
        rng.shuffle(queries)
        lookup.lookup(queries[0], user="rev")  # warm the connection/page cache
        tracemalloc.start()
        times, found = [], 0
        for q in queries:
            start = time.perf_counter()
            result = lookup.lookup(q, user="rev")
            times.append((time.perf_counter() - start) * 1000)
            found += bool(result.cases)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        bare = []
        for q in queries:  # the same look-ups without the audit record (its fsync'd append is the main cost)
            start = time.perf_counter()
            lookup.lookup(q, user="rev", audit=False)
            bare.append((time.perf_counter() - start) * 1000)
        audit_only = []
        for q in queries[:100]:  # the audit append by itself (AuditLog: one fsync'd transaction per record)
            start = time.perf_counter()
            lookup.audit.append("links", "rev", "", {"query": q})
            audit_only.append((time.perf_counter() - start) * 1000)
        times.sort()
        bare.sort()
        audit_only.sort()
        db_mb = sum(p.stat().st_size for p in root.glob("links.sqlite*")) / 2**20
        report: dict[str, Any] = {
            "cases": args.cases, "chunks": args.cases * args.chunks, "mention_rows": rows,
            "rebuild_s": round(rebuild_s, 2), "rebuild_chunks_per_s": round(args.cases * args.chunks / rebuild_s, 1),
            "queries": len(queries), "queries_found": found,
            "lookup_ms_p50": round(statistics.median(times), 2),
            "lookup_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2), "lookup_ms_max": round(times[-1], 2),
            "lookup_no_audit_ms_p50": round(statistics.median(bare), 2),
            "lookup_no_audit_ms_p95": round(bare[int(0.95 * (len(bare) - 1))], 2),
            "audit_append_ms_p50": round(statistics.median(audit_only), 2),
            "audit_append_ms_p95": round(audit_only[int(0.95 * (len(audit_only) - 1))], 2),
            "lookup_peak_python_mb": round(peak / 2**20, 2),
            "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "index_file_mb": round(db_mb, 1),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
