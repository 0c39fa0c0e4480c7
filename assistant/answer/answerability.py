"""Is the answer in the retrieved passages? A calibrated logistic combiner over the sentence scores.

The best sentence's support alone (`score_sentences`) separates answerable from unanswerable questions only so far
(ClapNQ dev: refusal 0.800 with false refusal 0.204 at its best single threshold). The combiner reads a few more
numbers that are already there after scoring (`FEATURES`): the best sentence's support, lexical and dense parts,
the runner-up's support, the mean support of the best three, the best lexical and dense scores over all
sentences, and the share of the question's content words found in the best sentence and in its passage.

Its coefficients, the feature scaling and the refusal threshold (on the probability) live in `answerability.json`
beside this module, written by `python -m evals.fit_answerability` on the ClapNQ dev half only (the file records
the command, the date and the dev numbers); the held-out half reports it (`python -m evals clapnq`).

Every question goes through it, those holding a hard identifier (whose support is mostly lexical) too: on the dev
half, keeping those on their own support threshold refused 8 of their 13 answerables (dev refusal 0.736 at false
refusal 0.150, against 0.807 with the combiner deciding for all).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.text.lexicon import content_terms

if TYPE_CHECKING:
    from assistant.answer.extractive import ScoredSentence
    from assistant.types import Passage

DATA_FILE = Path(__file__).with_name("answerability.json")
FEATURES = ("support", "lexical", "dense", "second", "mean_top3", "max_lexical", "max_dense", "coverage",
            "passage_coverage")


@dataclass(frozen=True)
class Combiner:
    """p(answerable) = sigmoid(intercept + sum(coef * (x - mean) / scale)); refuse when p < threshold, or when the
    best sentence's support is below `min_support` (a sentence the answer-type gate zeroed is never an answer)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    min_support: float = 0.0

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += w * (values[name] - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept, "threshold": self.threshold,
                "min_support": self.min_support}


def combiner_from(data: dict[str, object], source: str = "answerability data") -> Combiner:
    """A `Combiner` from its JSON form; a ValueError naming `source` when the data is incomplete or inconsistent."""
    try:
        feats = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
        cols = [tuple(float(x) for x in data[k]) for k in ("mean", "scale", "coef")]  # type: ignore[attr-defined]
        intercept = float(data["intercept"])  # type: ignore[arg-type]
        threshold = float(data["threshold"])  # type: ignore[arg-type]
        floor = float(data.get("min_support", 0.0))  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: malformed answerability combiner ({type(exc).__name__}: {exc})") from exc
    unknown = [f for f in feats if f not in FEATURES]
    if unknown or any(len(c) != len(feats) for c in cols) or any(s <= 0 for s in cols[1]):
        raise ValueError(f"{source}: answerability combiner has unknown features {unknown} or mismatched columns")
    return Combiner(feats, cols[0], cols[1], cols[2], intercept, threshold, floor)


@lru_cache(maxsize=4)
def load_combiner(path: Path = DATA_FILE) -> Combiner:
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return combiner_from(data["combiner"], str(path))


def _coverage(terms: set[str], text: str) -> float:
    return len(terms & set(content_terms(text))) / len(terms) if terms else 0.0


def answer_features(question: str, scored: Sequence[ScoredSentence], passages: Sequence[Passage],
                    ignore: frozenset[str] = frozenset()) -> dict[str, float]:
    """The combiner's inputs for one question (`scored` best first, as `score_sentences` returns them); `ignore`
    holds content terms that say nothing about what is asked ("tell", "describe", ...)."""
    if not scored:
        return dict.fromkeys(FEATURES, 0.0)
    best = scored[0]
    terms = set(content_terms(question)) - ignore
    return {
        "support": best.support,
        "lexical": best.lexical,
        "dense": best.dense,
        "second": scored[1].support if len(scored) > 1 else 0.0,
        "mean_top3": sum(s.support for s in scored[:3]) / len(scored[:3]),
        "max_lexical": max(s.lexical for s in scored),
        "max_dense": max(s.dense for s in scored),
        "coverage": _coverage(terms, best.text),
        "passage_coverage": _coverage(terms, passages[best.passage].text),
    }


def combiner_floor(question: str, scored: Sequence[ScoredSentence], passages: Sequence[Passage], threshold: float,
                   ignore: frozenset[str] = frozenset(), combiner: Combiner | None = None) -> float:
    """The least support a cited sentence needs, as the combiner decides: `math.inf` (refuse) when it judges the
    question unanswerable, else `threshold`, lowered to the best sentence's support so that sentence is cited."""
    model = combiner or load_combiner()
    if not scored or scored[0].support <= 0.0 or scored[0].support < model.min_support:
        return math.inf
    if model.probability(answer_features(question, scored, passages, ignore)) < model.threshold:
        return math.inf
    return min(threshold, scored[0].support)
