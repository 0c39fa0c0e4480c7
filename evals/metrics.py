"""Pure metric functions. No I/O, no models: every function here is unit-tested on hand-computed examples.

Conventions: a ranking is a sequence of ids, best first; `relevant` is a set of ids (binary relevance) or a mapping
id -> graded relevance (nDCG uses the grades, everything else treats grade > 0 as relevant)."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Relevance = Mapping[str, float] | Iterable[str]


def _grades(relevant: Relevance) -> dict[str, float]:
    if isinstance(relevant, Mapping):
        return {str(k): float(v) for k, v in relevant.items() if float(v) > 0}
    return {str(k): 1.0 for k in relevant}


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with the linear gain used by BEIR/pytrec_eval: sum(g_i / log2(i + 1)), i 1-based."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float:
    grades = _grades(relevant)
    if not grades:
        return 0.0
    gains = [grades.get(doc, 0.0) for doc in _dedupe(ranking)[:k]]
    ideal = sorted(grades.values(), reverse=True)[:k]
    return dcg(gains) / dcg(ideal)


def recall_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float:
    """Fraction of the relevant ids found in the top k (0 when there are none to find)."""
    grades = _grades(relevant)
    if not grades:
        return 0.0
    return len(set(_dedupe(ranking)[:k]) & set(grades)) / len(grades)


def hit_at_k(ranking: Sequence[str], relevant: Relevance, k: int) -> float:
    """1.0 when any relevant id is in the top k (top-1 accuracy is hit_at_k(..., 1))."""
    grades = _grades(relevant)
    return 1.0 if set(_dedupe(ranking)[:k]) & set(grades) else 0.0


def reciprocal_rank(ranking: Sequence[str], relevant: Relevance, k: int | None = None) -> float:
    grades = _grades(relevant)
    for i, doc in enumerate(_dedupe(ranking)[:k] if k else _dedupe(ranking), 1):
        if doc in grades:
            return 1.0 / i
    return 0.0


def mrr(rankings: Sequence[Sequence[str]], relevants: Sequence[Relevance], k: int | None = None) -> float:
    """Mean reciprocal rank over queries (queries without any relevant id in the list score 0)."""
    if len(rankings) != len(relevants):
        raise ValueError("rankings and relevants differ in length")
    if not rankings:
        return 0.0
    return sum(reciprocal_rank(r, g, k) for r, g in zip(rankings, relevants, strict=True)) / len(rankings)


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def _dedupe(ranking: Sequence[str]) -> list[str]:
    """A retriever that returns several chunks of one document counts the document once, at its best rank."""
    return list(dict.fromkeys(ranking))


# ------------------------------------------------------------------------------------------ classification / spans
def precision_recall_fbeta(tp: int, fp: int, fn: int, beta: float = 1.0) -> dict[str, float]:
    """Precision, recall and F-beta from counts. Empty denominators give 0 (never NaN)."""
    if min(tp, fp, fn) < 0:
        raise ValueError("counts must be non-negative")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    b2 = beta * beta
    denom = b2 * precision + recall
    f = (1 + b2) * precision * recall / denom if denom else 0.0
    return {"precision": precision, "recall": recall, f"f{_beta_name(beta)}": f}


def _beta_name(beta: float) -> str:
    return str(int(beta)) if float(beta).is_integer() else str(beta)


# ------------------------------------------------------------------------------------------ answers (SQuAD style)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower case, drop punctuation, drop articles a/an/the, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return 1.0 if normalize_answer(prediction) == normalize_answer(gold) else 0.0


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token-overlap F1 on normalised tokens (multiset intersection). Both empty -> 1, one empty -> 0."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return 1.0 if pred == ref else 0.0
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(prediction: str, golds: Sequence[str], fn: object = token_f1) -> float:
    """Max of a metric over several acceptable gold answers."""
    scorer = fn if callable(fn) else token_f1
    return max((float(scorer(prediction, g)) for g in golds), default=0.0)


# ------------------------------------------------------------------------------------------ refusal
def refusal_rates(answerable: Sequence[bool], refused: Sequence[bool]) -> dict[str, float]:
    """Refusal behaviour over a mixed set.

    answered_rate: answerable questions that were answered; refusal_rate: unanswerable questions that were refused;
    false_refusal_rate: answerable questions refused; accuracy: refused exactly when unanswerable.
    Counts are included so every rate carries its sample size."""
    if len(answerable) != len(refused):
        raise ValueError("answerable and refused differ in length")
    n_ans = sum(1 for a in answerable if a)
    n_unans = len(answerable) - n_ans
    answered_ok = sum(1 for a, r in zip(answerable, refused, strict=True) if a and not r)
    refused_ok = sum(1 for a, r in zip(answerable, refused, strict=True) if not a and r)
    return {
        "answered_rate": answered_ok / n_ans if n_ans else 0.0,
        "false_refusal_rate": (n_ans - answered_ok) / n_ans if n_ans else 0.0,
        "refusal_rate": refused_ok / n_unans if n_unans else 0.0,
        "accuracy": (answered_ok + refused_ok) / len(answerable) if answerable else 0.0,
        "n_answerable": float(n_ans),
        "n_unanswerable": float(n_unans),
    }


# ------------------------------------------------------------------------------------------ text containment
def normalize_ws(text: str) -> str:
    """Whitespace-normalised (NFKC) text for 'does this passage contain that evidence' checks; case is kept."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def contains_evidence(passage: str, evidence: str) -> bool:
    ev = normalize_ws(evidence)
    return bool(ev) and ev in normalize_ws(passage)
