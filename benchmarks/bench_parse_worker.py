"""Parsing in a child process (issue 14): what it costs per file, and what the limits must allow. Reported, never
asserted.

    .venv/bin/python benchmarks/bench_parse_worker.py [--mb 20] [--repeat 3]

- `files`: every demo file and phone sample parsed in this process (`loaders.parse_source`) and through the worker
  (`ingest.isolation.ParserProcess`, one worker reused); the median added time per file, the slowest parse and the
  worker's peak resident and virtual memory (VmPeak is what RLIMIT_AS limits).
- `start`: a cold worker's start (interpreter + loaders) up to its first reply.
- `pa_xml`: a generated Cellebrite PA XML report of --mb MB through the worker: MB/s and peak memory, which size
  `ingest.parse_timeout_s` for the largest reports.
Results go to benchmarks/results/parse_worker.json and are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.ingest.isolation import ParserProcess  # noqa: E402
from assistant.loaders import SourceFile, discover_files, parse_source, read_source  # noqa: E402
from benchmarks.bench_phone import write_big_report  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
SAMPLES = Path(os.environ.get("ASSISTANT_PHONE_SAMPLES", ROOT.parent / "shared" / "phone_samples"))


def _vm_peak_kb(parser: ParserProcess) -> int:
    proc = parser._proc
    if proc is None:
        return 0
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1])
    return 0


def _timed(fn: Any, read: SourceFile) -> float:
    start = time.perf_counter()
    with contextlib.suppress(Exception):  # a refused sample costs the same round trip: still counted
        fn(read)
    return time.perf_counter() - start


def files(repeat: int) -> dict[str, Any]:
    roots = [ROOT / "demo" / "operation-kestrel"] + ([SAMPLES] if SAMPLES.is_dir() else [])
    found, _ = discover_files(roots)
    reads = [read_source(path, root) for path, root in found]
    parser = ParserProcess(timeout_s=600, memory_mb=0)
    try:
        parser.parse(reads[0])  # warm: the start is measured apart
        inproc: list[float] = []
        worker: list[float] = []
        for _ in range(repeat):
            for read in reads:
                inproc.append(_timed(parse_source, read))
                worker.append(_timed(parser.parse, read))
        added = sorted(w - i for w, i in zip(worker, inproc, strict=True))
        return {"files": len(reads), "repeat": repeat,
                "median_in_process_ms": round(statistics.median(inproc) * 1000, 2),
                "median_worker_ms": round(statistics.median(worker) * 1000, 2),
                "median_added_ms": round(statistics.median(added) * 1000, 2),
                "slowest_parse_s": round(max(worker), 3),
                "worker_peak_rss_mb": round(parser.last_peak_kb / 1024, 1),
                "worker_vm_peak_mb": round(_vm_peak_kb(parser) / 1024, 1), "worker_starts": parser.starts}
    finally:
        parser.close()


def start(repeat: int, read: SourceFile) -> dict[str, Any]:
    times = []
    for _ in range(repeat):
        parser = ParserProcess(timeout_s=600, memory_mb=4096)
        times.append(_timed(parser.parse, read))
        parser.close()
    return {"cold_start_first_reply_ms": round(statistics.median(times) * 1000, 1)}


def pa_xml(mb: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        path = Path(tmp) / "report.xml"
        write_big_report(path, mb)
        size_mb = path.stat().st_size / (1 << 20)
        read = read_source(path, path.parent)
        parser = ParserProcess(timeout_s=3600, memory_mb=0)
        try:
            start_t = time.perf_counter()
            doc, _ = parser.parse(read)
            seconds = time.perf_counter() - start_t
            return {"mb": round(size_mb, 1), "records": len(doc.messages), "seconds": round(seconds, 2),
                    "mb_per_s": round(size_mb / seconds, 2), "worker_peak_rss_mb": round(parser.last_peak_kb / 1024),
                    "worker_vm_peak_mb": round(_vm_peak_kb(parser) / 1024)}
        finally:
            parser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the generated PA XML report (MB)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the sample files")
    args = parser.parse_args()
    measured = files(args.repeat)
    first, _ = discover_files([ROOT / "demo" / "operation-kestrel"])
    result = {"files": measured, "start": start(args.repeat, read_source(*first[0])), "pa_xml": pa_xml(args.mb)}
    out = RESULTS_DIR / "parse_worker.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
