"""Fit the answerability combiner (`assistant.answer.answerability`) on the ClapNQ dev half and write its data file.

    python -m evals.fit_answerability [--out assistant/answer/answerability.json] [--c 1.0]

Only the dev half (`evals.suites.clapnq.split_of` == "dev") is read; the held-out half is never touched here (it is
reported by `python -m evals clapnq`). Every question of the half is fitted and decided by the combiner. The model
is an L2-regularised logistic regression (Newton's method on standardised features; `c` is the inverse
regularisation strength, as in scikit-learn). The probability threshold is the one refusing the most dev
unanswerables with at most MAX_FALSE_REFUSAL of dev answerables refused (the issue's bound), then the highest
support floor that changes no dev rate (`choose_floor`); the file records the command, the date and the dev rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.answer.answerability import DATA_FILE, FEATURES, Combiner, answer_features
from assistant.answer.extractive import QUESTION_NOISE, score_sentences, support_threshold
from assistant.config import load_settings
from evals.suites.clapnq import MAX_FALSE_REFUSAL, _load, _passages

Row = tuple[bool, float, float, dict[str, float]]  # answerable, best support, support threshold, features


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of an L2-regularised logistic regression (intercept not penalised)."""
    n, k = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    w = np.zeros(k + 1)
    penalty = np.eye(k + 1) / c
    penalty[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -60, 60)))
        grad = design.T @ (p - y) + penalty @ w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return w[1:], float(w[0])


def rates(rows: list[Row], combiner: Combiner | None) -> dict[str, float]:
    """Refusal of unanswerables and false refusal of answerables, by the combiner (None: support alone)."""
    refused = []
    for answerable, best, threshold, feats in rows:
        if combiner is not None:
            refuse = best <= 0.0 or best < combiner.min_support or combiner.probability(feats) < combiner.threshold
        else:
            refuse = best < threshold
        refused.append((answerable, refuse))
    n_a = sum(1 for a, _ in refused if a)
    n_u = len(refused) - n_a
    return {"refusal_rate": round(sum(1 for a, r in refused if not a and r) / max(1, n_u), 4),
            "false_refusal_rate": round(sum(1 for a, r in refused if a and r) / max(1, n_a), 4)}


def choose_threshold(rows: list[Row], base: Combiner) -> Combiner:
    probs = sorted({round(base.probability(f), 6) for *_, f in rows})
    best: tuple[float, float, Combiner] | None = None
    for t in [0.0, *(p + 1e-7 for p in probs)]:
        cand = Combiner(base.features, base.mean, base.scale, base.coef, base.intercept, round(t, 6))
        r = rates(rows, cand)
        if r["false_refusal_rate"] <= MAX_FALSE_REFUSAL:
            key = (r["refusal_rate"], -r["false_refusal_rate"])
            if best is None or key > best[:2]:
                best = (*key, cand)
    if best is None:
        raise SystemExit("no threshold keeps the dev false refusal within the bound")
    return best[2]


def choose_floor(rows: list[Row], combiner: Combiner, step: float = 0.025) -> Combiner:
    """The highest support floor (a multiple of `step`, below 0.575) that leaves the dev rates as they are: the
    combiner then never answers from a sentence weaker than anything it needed on dev."""
    target = rates(rows, combiner)
    chosen = combiner
    for k in range(1, 23):
        cand = replace(combiner, min_support=round(k * step, 3))
        got = rates(rows, cand)
        if got["refusal_rate"] < target["refusal_rate"] or got["false_refusal_rate"] > target["false_refusal_rate"]:
            break
        chosen = cand
    return chosen


def dev_rows() -> list[Row]:
    from assistant.index.embedding import Embedder

    settings = load_settings()
    root = settings.eval_data / "clapnq" / "dev"
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    rows: list[Row] = []
    for answerable, name in ((True, "clapnq_dev_answerable.jsonl"), (False, "clapnq_dev_unanswerable.jsonl")):
        for record in _load(root / name, ("dev",)):
            question = str(record["input"])
            passages = _passages(record)
            scored = score_sentences(question, passages, embedder=embedder, scoring=settings.answer.scoring)
            rows.append((answerable, scored[0].support if scored else 0.0,
                         support_threshold(question, settings.answer),
                         answer_features(question, scored, passages, QUESTION_NOISE)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength (dev: 0.1 refused the most)")
    args = parser.parse_args(argv)
    rows = dev_rows()
    fit = rows
    x = np.array([[f[name] for name in FEATURES] for *_, f in fit])
    y = np.array([1.0 if a else 0.0 for a, *_ in fit])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((x - mean) / scale, y, args.c)
    base = Combiner(FEATURES, tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in scale),
                    tuple(round(float(v), 6) for v in coef), round(intercept, 6), 0.5)
    combiner = choose_floor(rows, choose_threshold(rows, base))
    out = {"command": f"python -m evals.fit_answerability --c {args.c}",
           "date": dt.date.today().isoformat(),
           "data": "ClapNQ dev half (sha256(id)[0] even); the held-out half is never read",
           "n_fit": len(fit), "n_dev": len(rows),
           "dev": {"support_only": rates(rows, None), "combiner": rates(rows, combiner)},
           "combiner": combiner.to_json()}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out["dev"]), "->", args.out)
    return 0 if math.isfinite(combiner.threshold) else 1


if __name__ == "__main__":
    raise SystemExit(main())
