"""Run the answerability judge (`assistant.answer.judge`) over ClapNQ and keep its probabilities for fitting.

    python -m evals.judge_clapnq --model qwen2.5-coder-0.5b [--split dev|heldout|both] [--band W] [--out FILE]

For every record of the chosen half (`evals.suites.clapnq.split_of`) the judge reads the question and the passages
of the best-scored sentences and gives P(answerable); with `--band W` only the records whose answerability-combiner
probability lies within W of its threshold (the uncertain band, where a second stage would ask the judge). The
output (default `evals/results/clapnq_judge_<model>.json`) maps record id -> probability, with the model, the
prompt version and the seconds per question; records already in the file are kept (a run can be resumed).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from assistant.answer.answerability import answer_features, load_combiner
from assistant.answer.extractive import QUESTION_NOISE, score_sentences
from assistant.answer.judge import JUDGE_VERSION, judge, judge_passages
from assistant.config import load_settings
from evals.suites.clapnq import _load, _passages

RESULTS = Path(__file__).parent / "results"


def default_out(model: str) -> Path:
    return RESULTS / f"clapnq_judge_{model}.json"


def load_probabilities(path: Path) -> dict[str, float]:
    """record id -> P(answerable) from a file this module wrote; a ValueError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data["probability"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a judge probability file ({type(exc).__name__}: {exc})") from exc


def main(argv: list[str] | None = None) -> int:
    from assistant.index.embedding import Embedder
    from assistant.llm import local_backend

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--split", choices=("dev", "heldout", "both"), default="both")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="at most N records (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--band", type=float, default=1.0,
                        help="judge only records whose combiner probability is within BAND of its threshold")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(
        update={"local_model": args.model, "llamacpp_model_path": "", "llamacpp_threads": args.threads})})
    out = args.out or default_out(args.model)
    data: dict[str, Any] = (json.loads(out.read_text(encoding="utf-8")) if out.exists()
                            else {"model": args.model, "prompt_version": JUDGE_VERSION, "probability": {},
                                  "seconds": {}})
    if data.get("prompt_version") != JUDGE_VERSION or data.get("model") != args.model:
        raise SystemExit(f"{out}: written by another model or prompt version; pass a new --out")
    root = settings.eval_data / "clapnq" / "dev"
    splits = ("dev", "heldout") if args.split == "both" else (args.split,)
    records = [r for split in splits for name in ("clapnq_dev_answerable.jsonl", "clapnq_dev_unanswerable.jsonl")
               for r in _load(root / name, (split,))]
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    combiner = load_combiner()
    queue = []  # (distance of the combiner's probability from its threshold, id, question, passages, scored)
    for record in records:
        question, passages = str(record["input"]), _passages(record)
        scored = score_sentences(question, passages, embedder=embedder, scoring=settings.answer.scoring)
        distance = abs(combiner.probability(answer_features(question, scored, passages, QUESTION_NOISE))
                       - combiner.threshold)
        data.setdefault("distance", {})[str(record["id"])] = round(distance, 6)
        if distance <= args.band and str(record["id"]) not in data["probability"]:
            queue.append((distance, str(record["id"]), question, passages, scored))
    queue.sort(key=lambda item: item[:2])  # the most uncertain first: a run cut short still covers a band
    backend = local_backend(settings)
    backend.check()
    started = time.perf_counter()
    for k, (_, rid, question, passages, scored) in enumerate(queue[: args.limit or None], 1):
        verdict = judge(backend, question, judge_passages(scored, passages))
        data["probability"][rid] = round(verdict.probability, 6)
        data["seconds"][rid] = round(verdict.seconds, 3)
        out.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{k}/{len(queue)} {time.perf_counter() - started:.0f}s", flush=True)
    seconds = list(data["seconds"].values())
    print(f"{out}: {len(data['probability'])} records, {sum(seconds) / max(1, len(seconds)):.2f} s/question")
    if backend.runtime is not None:
        backend.runtime.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
