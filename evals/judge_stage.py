"""Does the model judge help refusal? A second stage in the combiner's uncertain band, fitted on ClapNQ dev only.

    python -m evals.judge_stage --judge evals/results/clapnq_judge_qwen2.5-coder-0.5b.json [--band W]

The answerability combiner (`assistant.answer.answerability`) decides every question; in its uncertain band (its
probability within W of its threshold) the second stage decides instead: a logistic regression on the logits of
the combiner's and the judge's probabilities (`evals.judge_clapnq` wrote the judge's), fitted on the dev records of
the band, its threshold the one refusing the most dev unanswerables with at most MAX_FALSE_REFUSAL of dev
answerables refused over the whole dev half. W defaults to the widest band the judge file covers on both halves
(the runner judges the most uncertain records first). The held-out half is only reported, never fitted. Printed
and written beside the judge file (`*_stage.json`): dev and held-out rates of the combiner alone, of the judge alone
in the band, and of the second stage, with the band sizes and the judge's seconds per question.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer.answerability import answer_features, load_combiner
from assistant.answer.extractive import QUESTION_NOISE, score_sentences
from assistant.config import load_settings
from evals.fit_answerability import fit_logistic
from evals.judge_clapnq import load_probabilities
from evals.suites.clapnq import MAX_FALSE_REFUSAL, _load, _passages, split_of


@dataclass(frozen=True)
class Item:
    rid: str
    split: str
    answerable: bool
    refused: bool  # the combiner's decision
    distance: float  # |combiner probability - threshold|
    combiner: float  # the combiner's probability


def items() -> list[Item]:
    from assistant.index.embedding import Embedder

    settings = load_settings()
    root = settings.eval_data / "clapnq" / "dev"
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    model = load_combiner()
    out = []
    for answerable, name in ((True, "clapnq_dev_answerable.jsonl"), (False, "clapnq_dev_unanswerable.jsonl")):
        for record in _load(root / name, ("dev", "heldout")):
            question, passages = str(record["input"]), _passages(record)
            scored = score_sentences(question, passages, embedder=embedder, scoring=settings.answer.scoring)
            best = scored[0].support if scored else 0.0
            p = model.probability(answer_features(question, scored, passages, QUESTION_NOISE))
            refused = best <= 0.0 or best < model.min_support or p < model.threshold
            out.append(Item(str(record["id"]), split_of(str(record["id"])), answerable, refused,
                            abs(p - model.threshold), p))
    return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def rates(rows: list[Item], refuse: dict[str, bool]) -> dict[str, float]:
    """Refusal of unanswerables and false refusal of answerables; `refuse` overrides the combiner per record id."""
    decided = [(r.answerable, refuse.get(r.rid, r.refused)) for r in rows]
    n_a = sum(1 for a, _ in decided if a)
    n_u = len(decided) - n_a
    return {"refusal_rate": round(sum(1 for a, x in decided if not a and x) / max(1, n_u), 4),
            "false_refusal_rate": round(sum(1 for a, x in decided if a and x) / max(1, n_a), 4)}


def auc(rows: list[Item], scores: dict[str, float]) -> float:
    """Area under the ROC curve of `scores` for answerable vs unanswerable (ties count half)."""
    pos = [scores[r.rid] for r in rows if r.answerable]
    neg = [scores[r.rid] for r in rows if not r.answerable]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return round(wins / max(1, len(pos) * len(neg)), 4)


def _best_threshold(rows: list[Item], scores: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The score threshold (refuse below it) refusing the most dev unanswerables within the false-refusal bound."""
    best: tuple[float, float, float] | None = None
    for t in sorted({0.0, *(s + 1e-9 for s in scores.values())}):
        r = rates(rows, {k: s < t for k, s in scores.items()})
        if r["false_refusal_rate"] <= MAX_FALSE_REFUSAL and (best is None or
                                                              (r["refusal_rate"], -r["false_refusal_rate"]) > best[:2]):
            best = (r["refusal_rate"], -r["false_refusal_rate"], t)
    t = best[2] if best else -math.inf
    return t, rates(rows, {k: s < t for k, s in scores.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judge", type=Path, required=True)
    parser.add_argument("--band", type=float, default=0.0, help="0: the widest band the judge file covers")
    parser.add_argument("--c", type=float, default=1.0)
    args = parser.parse_args(argv)
    judged = load_probabilities(args.judge)
    raw = json.loads(args.judge.read_text(encoding="utf-8"))
    rows = items()
    band = args.band or min(max((r.distance for r in rows if r.split == s and r.rid in judged), default=0.0)
                            for s in ("dev", "heldout"))
    inside = [r for r in rows if r.distance <= band]
    missing = [r.rid for r in inside if r.rid not in judged]
    if missing:
        raise SystemExit(f"{args.judge}: {len(missing)} records of the band {band:.3f} have no judge probability")
    dev = [r for r in rows if r.split == "dev"]
    held = [r for r in rows if r.split == "heldout"]
    fit = [r for r in inside if r.split == "dev"]
    if len({r.answerable for r in fit}) < 2 or len(fit) < 10:
        raise SystemExit(f"{args.judge}: the band {band:.3f} holds {len(fit)} dev records, too few to fit")
    x = np.array([[_logit(r.combiner), _logit(judged[r.rid])] for r in fit])
    y = np.array([1.0 if r.answerable else 0.0 for r in fit])
    coef, intercept = fit_logistic(x, y, args.c)

    def stage(r: Item) -> float:
        return float(1 / (1 + math.exp(-(intercept + coef[0] * _logit(r.combiner) + coef[1] * _logit(judged[r.rid])))))

    t_stage, dev_stage = _best_threshold(dev, {r.rid: stage(r) for r in fit})
    t_judge, dev_judge = _best_threshold(dev, {r.rid: judged[r.rid] for r in fit})
    seconds = list(raw.get("seconds", {}).values())
    held_in = [r for r in inside if r.split == "heldout"]
    prob = {r.rid: r.combiner for r in inside}
    report = {
        "command": f"python -m evals.judge_stage --judge {args.judge} --band {band:.4f} --c {args.c}",
        "model": raw.get("model"), "prompt_version": raw.get("prompt_version"), "band": round(band, 4),
        "judge_seconds_per_question": round(sum(seconds) / max(1, len(seconds)), 2),
        "in_band": {"dev": len(fit), "heldout": len(held_in), "dev_share": round(len(fit) / len(dev), 3),
                    "auc_dev": {"judge": auc(fit, judged), "combiner": auc(fit, prob)},
                    "auc_heldout": {"judge": auc(held_in, judged), "combiner": auc(held_in, prob)}},
        "stage": {"coef_combiner_logit": round(float(coef[0]), 4), "coef_judge_logit": round(float(coef[1]), 4),
                  "intercept": round(intercept, 4), "threshold": round(t_stage, 4), "judge_alone_threshold":
                  round(t_judge, 4)},
        "dev": {"combiner": rates(dev, {}), "judge_in_band": dev_judge, "second_stage": dev_stage},
        "heldout": {"combiner": rates(held, {}),
                    "judge_in_band": rates(held, {r.rid: judged[r.rid] < t_judge for r in inside
                                                  if r.split == "heldout"}),
                    "second_stage": rates(held, {r.rid: stage(r) < t_stage for r in inside if r.split == "heldout"})},
    }
    out = args.judge.with_name(args.judge.stem + "_stage.json")
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
