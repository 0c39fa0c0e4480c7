"""Ingest workers (issue 19): throughput of 1 vs 2 Celery worker processes on loopback, embedded Chroma vs the Chroma
server, and the counts after a worker process is killed with SIGKILL in the middle of a file.

    .venv/bin/python benchmarks/bench_workers.py [--files 8] [--paragraphs 40] [--no-kill] [--no-server]
    .venv/bin/python benchmarks/bench_workers.py --split 3000 [--part-chunks 64]   # one file split into parts

Each run: a fresh index folder, a redis-server on a free loopback port, `assistant workers start --n N`, timed from
queueing (`assistant ingest --workers`) to the end of the batch, after every worker process has loaded its models
(load time is reported apart). The corpus is the synthetic statements of tests/test_workers.py (names and phone
numbers for the PII tagger); with --split, one WhatsApp export (tests/test_workers_split.py) that the workers split
into part tasks (assistant/workers/split.py). The machine has 2 cores shared with other work: the load average is
written beside the numbers. Writes benchmarks/results/workers.json (workers_split.json with --split). No assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.offline import apply_offline_env  # noqa: E402
from assistant.workers.broker import RedisServer  # noqa: E402
from tests.test_workers import kill_mid_file, served_counts, write_corpus  # noqa: E402
from tests.test_workers_split import write_chat  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "workers.json"
CASE = "bench"


def wait_loaded(log: Path, n: int, deadline: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("worker models loaded") >= n:
            return time.monotonic() - t0
        time.sleep(0.2)
    raise SystemExit(f"workers did not load their models in time (see {log})")


def enqueue(index_dir: Path, chroma_url: str, broker_url: str, corpus: Path, done: dict[str, Any]) -> None:
    """`assistant ingest --workers` without its process start-up (the App loads no model for it)."""
    from assistant.app import App
    from assistant.config import IndexSettings, load_settings
    from assistant.workers.enqueue import ingest_queued
    from assistant.workers.settings import WorkerSettings

    try:
        app = App(load_settings(index_dir=index_dir, index=IndexSettings(chroma_url=chroma_url)))
        settings = WorkerSettings(broker_url=broker_url, poll_s=0.2)
        done["report"] = ingest_queued(app, [corpus], CASE, settings=settings).to_json()
    except Exception as exc:  # reported by the caller
        done["error"] = f"{type(exc).__name__}: {exc}"


def run(tmp: Path, corpus: Path, n: int, chroma_url: str = "", kill: bool = False,
        part_chunks: int = 0) -> dict[str, Any]:
    index_dir = tmp / (f"idx-{n}-{'server' if chroma_url else 'embedded'}-{'kill' if kill else 'clean'}"
                       f"{f'-split{part_chunks}' if part_chunks else ''}")
    with RedisServer(tmp / f"broker-{index_dir.name}", persist=False) as broker:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_INDEX_DIR": str(index_dir), "OMP_NUM_THREADS": "1",
               "ASSISTANT_WORKERS__BROKER_URL": broker.url, "ASSISTANT_WORKERS__POLL_S": "0.2",
               "ASSISTANT_LOG_LEVEL": "INFO", "ASSISTANT_INDEX__CHROMA_URL": chroma_url,
               **({"ASSISTANT_WORKERS__PART_CHUNKS": str(part_chunks)} if part_chunks else {})}
        log_path = tmp / f"{index_dir.name}.log"
        with log_path.open("wb") as log:
            workers = subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "workers", "start", "--n", str(n),
                                        "--loglevel", "INFO"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            try:
                load_s = wait_loaded(log_path, n, time.monotonic() + 600)
                t0 = time.monotonic()
                done: dict[str, Any] = {}
                thread = threading.Thread(target=enqueue, args=(index_dir, chroma_url, broker.url, corpus, done))
                thread.start()  # in this process: the timing leaves out a CLI's start-up
                killed = None
                if kill:
                    import redis

                    task_id, pid = kill_mid_file(redis.Redis.from_url(broker.url), time.monotonic() + 300)
                    killed = {"task": task_id, "pid": pid}
                thread.join()
                wall = time.monotonic() - t0
            finally:
                workers.terminate()
                workers.wait(timeout=120)
        if "report" not in done:
            raise SystemExit(f"ingest failed: {done.get('error')}")
        report = done["report"]
        deliveries = None
        if killed:
            import redis

            deliveries = int(redis.Redis.from_url(broker.url).get(f"assistant:deliveries:{killed['task']}") or 0)
    served, census, total, pending = served_counts(index_dir, CASE, chroma_url)
    busy = sum(v for k, v in report["timings_s"].items() if k != "finalize")  # the files' stage times, all workers
    return {"workers": n, "chroma": "server" if chroma_url else "embedded", "kill": kill, "load_s": round(load_s, 1),
            "wall_s": round(wall, 2), "chunks": report["chunks"], "chunks_per_s": round(report["chunks"] / wall, 2),
            "file_s_mean": round(busy / max(1, len(report["ingested"])), 2),
            "commit_s_mean": round((report["timings_s"]["index"] + report["timings_s"]["multilingual"])  # lock wait too
                                   / max(1, len(report["ingested"])), 2), "parallelism": round(busy / wall, 2),
            "ingested": len(report["ingested"]), "failed": len(report["failed"]), "chunks_in_chroma": total,
            "served_chunks": sum(served.values()), "versions": len(census), "pending": pending,
            "killed_task_deliveries": deliveries}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--paragraphs", type=int, default=40)
    ap.add_argument("--no-kill", action="store_true")
    ap.add_argument("--no-server", action="store_true")
    ap.add_argument("--split", type=int, default=0, metavar="MESSAGES", help="instead: one WhatsApp export of this "
                    "many messages, split into parts of --part-chunks chunks (1 vs 2 workers only)")
    ap.add_argument("--part-chunks", type=int, default=64)
    args = ap.parse_args()
    apply_offline_env()
    result: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        plans: list[dict[str, Any]] = [{"n": 1}, {"n": 2}]
        if args.split:
            corpus = write_chat(tmp / "corpus", messages=args.split)
            result.update(messages=args.split, part_chunks=args.part_chunks)
            plans = [{"n": 1, "part": args.part_chunks}, {"n": 2, "part": args.part_chunks}]
        else:
            corpus = write_corpus(tmp / "corpus", files=args.files, paragraphs=args.paragraphs)
        if not args.no_server and not args.split:
            plans.append({"n": 2, "server": True})
        if not args.no_kill and not args.split:
            plans.append({"n": 2, "kill": True})
        for plan in plans:
            if plan.get("server"):
                from assistant.index.server import ChromaServer

                with ChromaServer(tmp / "chroma-server") as server:
                    one = run(tmp, corpus, plan["n"], chroma_url=server.url)
            else:
                one = run(tmp, corpus, plan["n"], kill=bool(plan.get("kill")), part_chunks=plan.get("part", 0))
            print(json.dumps(one), flush=True)
            result["runs"].append(one)
    result["load_after"] = os.getloadavg()
    base = result["runs"][0]["chunks_per_s"]
    result["speedup_2_vs_1"] = [round(r["chunks_per_s"] / base, 2) for r in result["runs"][1:]]
    out = RESULTS.with_name("workers_split.json") if args.split else RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))


if __name__ == "__main__":
    main()
