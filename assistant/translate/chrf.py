"""chrF (Popović 2015): character n-gram F-score, n = 1..6, beta = 2 (recall weighted twice as much as precision),
whitespace removed before counting, scores averaged over n and given on a 0-100 scale. Corpus-level: n-gram
statistics are summed over all sentences before the precision and recall are taken (as sacreBLEU does)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

MAX_ORDER = 6
BETA = 2.0


def _ngrams(text: str, n: int) -> Counter[str]:
    chars = "".join(text.split())
    return Counter(chars[i:i + n] for i in range(len(chars) - n + 1))


def _stats(hypothesis: str, reference: str) -> list[tuple[int, int, int]]:
    """(matched, hypothesis total, reference total) per order 1..MAX_ORDER."""
    rows = []
    for n in range(1, MAX_ORDER + 1):
        hyp, ref = _ngrams(hypothesis, n), _ngrams(reference, n)
        rows.append((sum((hyp & ref).values()), sum(hyp.values()), sum(ref.values())))
    return rows


def _fscore(matched: int, hyp: int, ref: int) -> float:
    precision = matched / hyp if hyp else 0.0
    recall = matched / ref if ref else 0.0
    if precision + recall == 0:
        return 0.0
    b2 = BETA * BETA
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """chrF of a system output against one reference per sentence, 0-100."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    totals = [[0, 0, 0] for _ in range(MAX_ORDER)]
    for hyp, ref in zip(hypotheses, references, strict=True):
        for total, row in zip(totals, _stats(hyp, ref), strict=True):
            for i in range(3):
                total[i] += row[i]
    orders = [t for t in totals if t[2] > 0]  # orders longer than every reference are left out
    if not orders:
        return 0.0
    return 100.0 * sum(_fscore(*t) for t in orders) / len(orders)


def sentence_chrf(hypothesis: str, reference: str) -> float:
    return corpus_chrf([hypothesis], [reference])
