"""Memory held by one cached case catalog (chunk texts + metadata + BM25), to size the LRU capacity
`retrieval.catalog_cache_cases`, and the first-query cost with and without the catalog built at ingest.

    .venv/bin/python benchmarks/bench_catalog_cache.py [--sizes 2000 5000 10000] [--chars 700]

Each case is generated (seeded): message-like chunks of about --chars characters holding a UK phone number and a
date, with their entities stored the way ingest stores them. Chunks go into a real Chroma collection (tmp dir,
8-dimensional random vectors: the vectors stay in Chroma, never in the catalog). For each size it reports:
  * retained_mb: memory still held after `IndexStore.catalog` returns (tracemalloc, current after - before), i.e.
    what one cached case costs; bytes_per_chunk is that over the chunk count;
  * first_query_before_s: a fresh store's first keyword query when nothing was built at ingest (the catalog is
    read from Chroma in pages, BM25 built, both persisted, then the query runs): the cost before the finalize step;
  * first_query_after_s: the same first query in a fresh store (a new process) once ingest has finalized the case,
    the way a question runs it (`Retriever`): the persisted keyword index alone is loaded, the query runs, its top 8
    passages are read by id from Chroma; before_over_after is the ratio;
  * catalog_load_s: a fresh store loading the whole persisted catalog (texts + BM25), as the links views do;
  * keyword_retained_mb: memory held by the keyword index alone (what a question keeps cached);
  * the ingest's finalize step costs what first_query_before_s costs less one query (the same build, moved from the
    first question to the end of ingest); finalize_when_current_s is a finalize on an already built case.
Writes benchmarks/results/catalog_cache.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.index.store import IndexStore
from assistant.ingest.batches import write_version
from assistant.types import Chunk, Entity

RESULTS = Path(__file__).resolve().parent / "results" / "catalog_cache.json"
WORDS = ("meet collect parcel tonight garage money van driver address usual place bring cash later call back "
         "tomorrow morning station north road friend phone new number lost keys shop closed wait outside").split()


def make_chunks(case: str, n: int, chars: int, rng: random.Random) -> list[Chunk]:
    out = []
    for i in range(n):
        phone = f"07700 9{rng.randrange(10**5):05d}"
        head = f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T19:02 call {phone}: "
        body = []
        while len(head) + sum(len(w) + 1 for w in body) < chars:
            body.append(rng.choice(WORDS))
        text = head + " ".join(body)
        start = text.index(phone)
        ent = Entity(type="UK_PHONE", start=start, end=start + len(phone), text=phone, score=0.9,
                     normalized="+44" + phone.replace(" ", "")[1:])
        out.append(Chunk(chunk_id=f"{case}:m:{i}", case=case, source="phone.csv", locator=f"msg {i}", text=text,
                         start=0, end=len(text), content_hash=f"h{i}", source_hash="s", kind="messages",
                         entities=(ent,)))
    return out


def measure(n: int, chars: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore(Path(tmp) / "idx")
        chunks = make_chunks("bench", n, chars, random.Random(n))
        write_version(store, "bench", "phone.csv", "s", chunks,
                             np.random.default_rng(0).standard_normal((n, 8)).astype(np.float32))
        del chunks
        before_s = first_query(IndexStore(Path(tmp) / "idx"))  # nothing persisted yet: builds, as before finalize
        t0 = time.perf_counter()
        IndexStore(Path(tmp) / "idx").finalize("bench")  # already current: what ingest's finalize leaves behind
        finalize_check_s = time.perf_counter() - t0
        after_s = first_question(IndexStore(Path(tmp) / "idx"))
        t0 = time.perf_counter()
        IndexStore(Path(tmp) / "idx").catalog("bench")
        catalog_load_s = time.perf_counter() - t0
        cat_store, kw_store = IndexStore(Path(tmp) / "idx"), IndexStore(Path(tmp) / "idx")
        retained = retained_by(lambda: cat_store.catalog("bench"))
        keyword_retained = retained_by(lambda: kw_store.keyword_index("bench"))
    return {"chunks": n, "chars": chars, "retained_mb": round(retained / 2**20, 1),
            "bytes_per_chunk": round(retained / n), "first_query_before_s": round(before_s, 2),
            "first_query_after_s": round(after_s, 3), "before_over_after": round(before_s / after_s, 1),
            "catalog_load_s": round(catalog_load_s, 3), "keyword_retained_mb": round(keyword_retained / 2**20, 1),
            "finalize_when_current_s": round(finalize_check_s, 3)}


def retained_by(load: Callable[[], object]) -> int:
    """Bytes still allocated after `load` returns, its result kept alive (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = load()
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return retained


def first_question(store: IndexStore) -> float:
    t0 = time.perf_counter()
    hits = store.keyword_index("bench").search("parcel collect garage tonight", 50)
    store.get_chunks("bench", [cid for cid, _ in hits[:8]])
    return time.perf_counter() - t0


def first_query(store: IndexStore) -> float:
    t0 = time.perf_counter()
    _, bm25 = store.catalog("bench")
    bm25.search("parcel collect garage tonight", 50)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000])
    ap.add_argument("--chars", type=int, default=700)
    args = ap.parse_args()
    measure(200, args.chars)  # warm-up: imports (bm25s, Presidio's entity terms) are not the catalog's cost
    rows = [measure(n, args.chars) for n in args.sizes]
    for row in rows:
        print(json.dumps(row))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
