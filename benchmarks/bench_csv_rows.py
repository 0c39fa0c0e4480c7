"""Cost of row-level CSV checking, and what one long message cell costs downstream (the field cap), as curves.

    .venv/bin/python benchmarks/bench_csv_rows.py [--rows 50000] [--repeat 3] [--max-power 18]

1. Parse: `loaders.csv_rows.read_rows` (one physical line at a time, every record checked) against a plain
   `csv.reader` over the same synthetic export (neutral text, every 10th body quoted over two lines). The ratio is
   what to compare between machines.
2. One long message (a Document built directly, so bodies over the cap can be measured): `chunk_document` with
   the embedder's own tokenizer, for one body of 32 Ki .. 2**max_power characters: seconds, chunks, and the bytes
   of message records stored in chunk metadata.
Writes benchmarks/results/csv_rows.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.ingest.chunking import chunk_document
from assistant.ingest.tokenizer import load_tokenizer
from assistant.loaders.csv_rows import FIELD_CAP_CHARS, read_rows
from assistant.loaders.messages import _parse_timestamp
from assistant.offline import apply_offline_env
from assistant.types import Document, Message


def _export(rows: int) -> str:
    lines = ["timestamp,sender,recipient,body,translation"]
    for i in range(rows):
        body = f'"line one of note {i}\nline two, with a comma"' if i % 10 == 0 else f"plain note number {i}"
        lines.append(f"2023-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},P{i % 7},P{i % 5},{body},")
    return "\n".join(lines) + "\n"


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-power", type=int, default=18, help="longest body: 2**N characters (20 = 1 Mi)")
    args = parser.parse_args()
    apply_offline_env()
    text = _export(args.rows)
    plain = _median(lambda: list(csv.reader(io.StringIO(text, newline=""))), args.repeat)
    checked = _median(lambda: read_rows(text, ",", lambda v: _parse_timestamp(v) is not None), args.repeat)
    result: dict[str, Any] = {"rows": args.rows, "plain_csv_s": round(plain, 4), "checked_s": round(checked, 4),
                              "checked_over_plain": round(checked / plain, 2), "field_cap_chars": FIELD_CAP_CHARS,
                              "long_message": []}
    print(f"parse {args.rows} rows: plain {plain:.3f}s checked {checked:.3f}s ratio {checked / plain:.2f}")
    settings = load_settings()
    tokenizer = load_tokenizer(settings.embedding.model_path)
    for size in [1 << p for p in range(15, args.max_power + 1)]:
        body = ("the boat left the quay at dawn " * (size // 30 + 1))[:size]
        message = Message(message_id="m1", thread_id="t", timestamp="2023-01-01T10:00", sender="Ann", body=body,
                          recipient="", language="", translation="", device="")
        doc = Document(source="long.csv", kind="messages", text="", sha256="0" * 64, messages=(message,))
        t0 = time.perf_counter()
        chunks = chunk_document(doc, "bench", tokenizer, settings)
        seconds = time.perf_counter() - t0
        meta_bytes = sum(len(str(c.meta.get("messages", ""))) for c in chunks)
        row = {"chars": size, "seconds": round(seconds, 3), "chunks": len(chunks), "record_bytes": meta_bytes,
               "record_bytes_over_chars": round(meta_bytes / size, 1)}
        result["long_message"].append(row)
        print(row)
    out = Path(__file__).resolve().parent / "results" / "csv_rows.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
