"""CLI cold start: wall time of fresh `assistant` processes, and where `ask` spends it.

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 3] [--label after]

A temporary index holds the small test case tests/corpus/operation-heron (ingested once, untimed). Then each
command runs --runs times as a new process (extractive backend, offline switches set) and the median wall time is
kept: `assistant --help`, `assistant cases`, `assistant ask --json` in process, and `assistant ask --json` when an
`assistant ask-server` runs for that index (started and warmed untimed; the CLI forwards the question to it).
`python -X importtime` of the in-process `ask` gives the heaviest top-level imports (cumulative seconds).
Results are merged under --label into benchmarks/results/cold_start.json. No assertion: numbers for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "cold_start.json"
QUESTION = "What car was Ryan found in?"


def assistant(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli.main", *args]


def timed(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 2)


def top_imports(env: dict[str, str], n: int = 8) -> list[tuple[str, float]]:
    out = subprocess.run([sys.executable, "-X", "importtime", *assistant("ask", "--case", "heron", "--json",
                                                                          "--local", QUESTION)[1:]],
                         env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            rows.append((parts[2].strip(), round(int(parts[1]) / 1e6, 2)))  # top-level modules only
    return sorted(rows, key=lambda r: -r[1])[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--label", default="current")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ASSISTANT_INDEX_DIR": str(Path(tmp) / "idx"), "ASSISTANT_LLM__BACKEND": "extractive",
               "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        subprocess.run(assistant("ingest", "tests/corpus/operation-heron", "--case", "heron", "--no-progress"),
                       env=env, check=True, capture_output=True, cwd=ROOT)
        row: dict[str, Any] = {
            "help_s": timed(assistant("--help"), env, args.runs),
            "cases_s": timed(assistant("cases"), env, args.runs),
            "ask_in_process_s": timed(assistant("ask", "--case", "heron", "--json", "--local", QUESTION), env,
                                      args.runs),
        }
        server = subprocess.Popen(assistant("ask-server"), env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            server.stdout.readline()  # printed once warm and listening
            row["ask_with_ask_server_s"] = timed(assistant("ask", "--case", "heron", "--json", QUESTION), env,
                                                 args.runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
        row["ask_top_imports_s"] = top_imports(env)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[args.label] = row
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({args.label: row}, indent=2))


if __name__ == "__main__":
    main()
