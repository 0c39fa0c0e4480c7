"""Cost of the answer path's checks on HotpotQA drafts, as ratios: verification with and without re-citing
(setting `answer.recite`), and extractive sentence scoring with and without the neighbour window (setting
`answer.scoring.window_share`). Embeddings are cached (a warm run), so this measures our code,
not the model.

    .venv/bin/python benchmarks/bench_answer.py [--questions 40] [--repeat 3]

Reads ../shared/datasets/hotpotqa through ASSISTANT_EVAL_DATA like the eval suites; writes
benchmarks/results/answer.json. Timings are medians over repeats; the ratio is what to compare between machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer import extractive
from assistant.config import AnswerSettings, SentenceScoring, load_settings
from assistant.index.embedding import Embedder
from assistant.offline import apply_offline_env
from assistant.verify import verifier as verify
from evals.suites.verifier import _passages, build_cases

RESULTS = Path(__file__).resolve().parent / "results" / "answer.json"


def median_ms(fn: Callable[[], None], items: int, repeat: int, before: Callable[[], None] = lambda: None) -> float:
    """Median milliseconds per item of `fn` over `repeat` runs; `before` runs untimed ahead of each."""
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / items * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    apply_offline_env()
    settings = load_settings()
    data = json.loads((settings.eval_data / "hotpotqa" / "hotpotqa_train.json").read_text(encoding="utf-8"))
    data = data[: args.questions]
    cases = build_cases(data)
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    questions = [(str(item["question"]), _passages(item["context"])) for item in data]

    answer = settings.answer
    no_recite = answer.model_copy(update={"recite": False})
    no_window = answer.scoring.model_copy(update={"window_share": 0.0})

    def verify_all(answer_settings: AnswerSettings = answer) -> None:
        for case in cases:
            verify.verify_draft(case["draft"], case["p"], embedder=embedder, settings=answer_settings)

    def score_all(scoring: SentenceScoring = answer.scoring) -> None:
        for question, passages in questions:
            extractive.score_sentences(question, passages, embedder=embedder, scoring=scoring)

    verify_all()
    score_all()  # warm the embedding cache: the timings below are the checks themselves
    out: dict[str, Any] = {"drafts": len(cases), "questions": len(questions)}
    out["verify_ms_per_draft"] = median_ms(verify_all, len(cases), args.repeat)
    out["verify_ms_per_draft_without_reciting"] = median_ms(lambda: verify_all(no_recite), len(cases), args.repeat)
    out["reciting_cost_ratio"] = out["verify_ms_per_draft"] / out["verify_ms_per_draft_without_reciting"]
    out["score_ms_per_question"] = median_ms(score_all, len(questions), args.repeat)
    out["score_ms_per_question_without_window"] = median_ms(lambda: score_all(no_window), len(questions),
                                                             args.repeat)
    out["window_cost_ratio"] = out["score_ms_per_question"] / out["score_ms_per_question_without_window"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for key, value in out.items():
        print(f"{key:40s} {value:.3f}" if isinstance(value, float) else f"{key:40s} {value}")


if __name__ == "__main__":
    main()
