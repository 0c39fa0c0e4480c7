"""Person digests (the conversation eval's summary items) with a chosen backend, one row per item as it completes,
against an index that already holds the demo case (the full `python -m evals conversation --backend llamacpp` ingests
first and prints nothing until every item is done, which a loaded 2-core machine may not reach).

    ASSISTANT_LLM__DIGEST_BY_MODEL=true PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_model_digest.py \
        --index DIR --backend llamacpp s05,s07

Rows: lines (citations shown), precise (lines the eval scores right), facts / facts_found, removed (model lines that
failed verification and were dropped), backend (extractive-digest when the model's digest fell back), seconds, why
(the answer's first note: the model's verified digest, or why the extractive one is shown)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from assistant.app import App
from assistant.config import load_settings
from evals.datasets import iter_jsonl
from evals.suites.conversation import CASES, _summary_answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("ids", help="comma-separated summary item ids of evals/cases/conversation.jsonl")
    parser.add_argument("--index", type=Path, required=True, help="an index dir holding the demo case")
    parser.add_argument("--backend", default="llamacpp", choices=["extractive", "llamacpp", "ollama", "openai"])
    args = parser.parse_args()
    settings = load_settings()
    settings = settings.model_copy(update={"index_dir": args.index,
                                           "llm": settings.llm.model_copy(update={"backend": args.backend})})
    app = App(settings)
    items = {i["id"]: i for i in iter_jsonl(CASES)}
    for item_id in args.ids.split(","):
        start = time.perf_counter()
        row, answer = _summary_answer(app, settings.demo_case, items[item_id])
        row["seconds"] = round(time.perf_counter() - start, 1)
        row["why"] = answer.notes[0][:160] if answer.notes else ""  # our own note (fallback reason), no passage text
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
