"""Cost of the injection filter (`assistant.text.injection.is_instruction_like`) on ordinary text, as a ratio to
splitting the same text into sentences (`assistant.text.sentences.split_sentences`), per NTREX language. The
filter runs on every sentence the extractive answerer scores and on every cited evidence sentence.

    .venv/bin/python benchmarks/bench_injection.py [--repeat 5]

Reads ../shared/datasets/ntrex through ASSISTANT_EVAL_DATA; writes benchmarks/results/injection.json. Timings are the
best of `repeat` runs (2 shared cores are noisy); the ratio is what to compare between machines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.text.injection import is_instruction_like
from assistant.text.sentences import split_sentences
from evals.suites.injection import NTREX_LANGS


def best_of(repeat: int, fn: Callable[[str], object], lines: list[str]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for line in lines:
            fn(line)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(load_settings().eval_data) / "ntrex"
    results = {}
    for lang, name in NTREX_LANGS.items():
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        is_instruction_like(lines[0])  # patterns compiled
        filt = best_of(args.repeat, is_instruction_like, lines)
        split = best_of(args.repeat, split_sentences, lines)
        results[lang] = {"sentences": len(lines), "filter_us": round(filt / len(lines) * 1e6, 1),
                         "split_us": round(split / len(lines) * 1e6, 1), "ratio": round(filt / split, 2)}
        print(f"{lang}: filter {results[lang]['filter_us']} us/sentence, {results[lang]['ratio']}x sentence split")
    out = Path(__file__).resolve().parent / "results" / "injection.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
