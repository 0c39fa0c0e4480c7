"""Fit the answerability combiner (`assistant.answer.answerability`) on the ClapNQ dev half and write its data file.

    python -m evals.fit_answerability [--out assistant/answer/answerability.json] [--c 1.0] [--cv 10]
                                      [--features support,dense,...]

Only the dev half (`evals.suites.clapnq.split_of` == "dev") is read; the held-out half is never touched here (it is
reported by `python -m evals clapnq`). Every question of the half is fitted and decided by the combiner. The model
is an L2-regularised logistic regression (Newton's method on standardised features; `c` is the inverse
regularisation strength, as in scikit-learn). The probability threshold is the one refusing the most dev
unanswerables with at most MAX_FALSE_REFUSAL of dev answerables refused (the issue's bound), then the highest
support floor that changes no dev rate (`choose_floor`); the file records the command, the date and the dev rates.

The rates on the rows the combiner was fitted on flatter it; `--cv R` also reports them cross-validated inside the dev
half (`cross_validate`: R repeats of a stratified 5-fold split, fit and threshold on four folds, decide the fifth),
for the features chosen (`--features`, default all), so features are kept or dropped on held-apart dev rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

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
        refuse = _refused(combiner, best, feats) if combiner is not None else best < threshold
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


def fit_combiner(rows: list[Row], names: tuple[str, ...], c: float) -> Combiner:
    """Logistic fit of `names` on `rows`, then the threshold (`choose_threshold`); no support floor yet."""
    x = np.array([[f[name] for name in names] for *_, f in rows])
    y = np.array([1.0 if a else 0.0 for a, *_ in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    coef, intercept = fit_logistic((x - mean) / scale, y, c)
    base = Combiner(names, tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in scale),
                    tuple(round(float(v), 6) for v in coef), round(intercept, 6), 0.5)
    return choose_threshold(rows, base)


def cross_validate(rows: list[Row], names: tuple[str, ...], c: float, repeats: int = 10,
                   folds: int = 5, floor: float = 0.0) -> dict[str, float]:
    """Refusal and false refusal of combiners fitted on `folds - 1` folds and applied to the remaining one, pooled
    over the folds and averaged over `repeats` stratified splits (seeds 0..repeats-1); `floor` is the support floor."""
    got: list[dict[str, float]] = []
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        fold_of: dict[int, int] = {}
        for label in (True, False):
            members = [i for i, row in enumerate(rows) if row[0] is label]
            rng.shuffle(members)
            fold_of.update({i: k % folds for k, i in enumerate(members)})
        decided: list[Row] = []
        for k in range(folds):
            model = replace(fit_combiner([r for i, r in enumerate(rows) if fold_of[i] != k], names, c),
                            min_support=floor)
            test = [r for i, r in enumerate(rows) if fold_of[i] == k]
            # the decision re-encoded as support 0 or 1 against a threshold of 0.5, for `rates`
            decided += [(a, 0.0 if _refused(model, best, f) else 1.0, 0.5, f) for a, best, _, f in test]
        got.append(rates(decided, None))
    return {key: round(float(np.mean([g[key] for g in got])), 4) for key in ("refusal_rate", "false_refusal_rate")}


def _refused(combiner: Combiner, best: float, feats: dict[str, float]) -> bool:
    return best <= 0.0 or best < combiner.min_support or combiner.probability(feats) < combiner.threshold


def dev_rows(extra: Callable[[str, list[Any], list[Any]], dict[str, float]] | None = None) -> list[Row]:
    """The ClapNQ dev half's rows; `extra(question, scored, passages)` adds features to each (evals.gemma_qa)."""
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
            feats = answer_features(question, scored, passages, QUESTION_NOISE)
            if extra is not None:
                feats.update(extra(question, scored, passages))
            rows.append((answerable, scored[0].support if scored else 0.0,
                         support_threshold(question, settings.answer), feats))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_FILE)
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength (dev: 0.1 refused the most)")
    parser.add_argument("--cv", type=int, default=0, help="also report R repeats of 5-fold cross-validation")
    parser.add_argument("--features", default=",".join(FEATURES), help="comma-separated subset of FEATURES")
    args = parser.parse_args(argv)
    names = tuple(n for n in args.features.split(",") if n)
    if unknown := [n for n in names if n not in FEATURES]:
        parser.error(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
    rows = dev_rows()
    combiner = choose_floor(rows, fit_combiner(rows, names, args.c))
    command = f"python -m evals.fit_answerability --c {args.c}" + (f" --cv {args.cv}" if args.cv else "")
    if names != FEATURES:
        command += f" --features {args.features}"
    dev: dict[str, object] = {"support_only": rates(rows, None), "combiner": rates(rows, combiner)}
    if args.cv:
        dev["combiner_cross_validated"] = cross_validate(rows, names, args.c, args.cv, floor=combiner.min_support)
    out = {"command": command,
           "date": dt.date.today().isoformat(),
           "data": "ClapNQ dev half (sha256(id)[0] even); the held-out half is never read",
           "n_fit": len(rows), "n_dev": len(rows), "dev": dev,
           "combiner": combiner.to_json()}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out["dev"]), "->", args.out)
    return 0 if math.isfinite(combiner.threshold) else 1


if __name__ == "__main__":
    raise SystemExit(main())
