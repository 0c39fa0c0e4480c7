"""ClapNQ: does the extractive answerer refuse when the passage does not hold the answer?

Each ClapNQ record comes with the passage(s) a retriever returned; they become the retrieved set (`Passage`
objects) for `assistant.answer.extractive`. Answerable records hold a grounded answer and gold evidence sentences;
unanswerable records hold an on-topic passage that does not answer the question (the hard case for refusal).

The refusal decision is the product's (`refusal_floor`): the answerability combiner
(`assistant.answer.answerability`, fitted on the dev half by `python -m evals.fit_answerability`), or with
`answer.refusal = "support"` the best sentence's support against `support_threshold`. Reported: refusal rate on
unanswerables, false-refusal rate on answerables, evidence recall (answerables answered whose cited sentences
overlap a gold evidence sentence), the trade-off curve over a grid of support thresholds (support alone, one
threshold for every question) and its operating point: the lowest false-refusal threshold meeting both targets
(refuse >= TARGET_REFUSAL of unanswerables, <= MAX_FALSE_REFUSAL of answerables); when none does, the threshold
refusing the most unanswerables within the false-refusal bound.

Tuning kept apart from evaluation: ClapNQ's dev file (300 + 300 records) is split by a hash of each record's id
(`split_of`) into a `dev` half, where the curve and the operating point are computed and the thresholds in
`AnswerSettings` are chosen, and a `heldout` half, where the product's thresholds are only reported (the headline
refusal_rate / false_refusal_rate / evidence_recall, gated in CI). `dev` carries the same rates on the dev half.
Quick (CI): the held-out half only, no curve.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from assistant.answer.extractive import ScoredSentence, refusal_floor, score_sentences, select_sentences
from assistant.config import Settings
from assistant.types import Passage

log = logging.getLogger(__name__)

TARGET_REFUSAL = 0.85  # issue 12 targets
MAX_FALSE_REFUSAL = 0.15
GRID = tuple(round(0.025 * k, 3) for k in range(8, 33))  # 0.20 .. 0.80


def split_of(record_id: str) -> str:
    """"dev" or "heldout", fixed by the record id (sha256, first byte even = dev): deterministic, order-free."""
    return "dev" if hashlib.sha256(record_id.encode("utf-8")).digest()[0] % 2 == 0 else "heldout"


def _load(path: Path, splits: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                if split_of(str(row["id"])) in splits:
                    rows.append(row)
    return rows


def _passages(record: dict[str, Any]) -> list[Passage]:
    return [Passage(chunk_id=f"{record['id']}-{i}", case="clapnq", source=str(p.get("title", "")), locator="",
                    text=str(p["text"]), score=1.0, rank=i + 1) for i, p in enumerate(record["passages"])]


def _gold_spans(record: dict[str, Any], passages: list[Passage]) -> set[tuple[int, int, int]]:
    spans: set[tuple[int, int, int]] = set()
    for out in record.get("output", []):
        for sent in out.get("selected_sentences", []) or []:
            for i, p in enumerate(passages):
                at = p.text.find(sent.strip())
                if at >= 0:
                    spans.add((i, at, at + len(sent.strip())))
    return spans


def _overlaps(chosen: list[ScoredSentence], gold: set[tuple[int, int, int]]) -> bool:
    return any(c.passage == g[0] and c.start < g[2] and g[1] < c.end for c in chosen for g in gold)


Item = tuple[bool, list[ScoredSentence], set[tuple[int, int, int]], float]


def _rates(items: list[Item], settings: Settings, threshold: float | None) -> dict[str, float | None]:
    """Rates at one threshold for every question, or (None) at the product's own per-question threshold."""
    chosen = [(a, select_sentences(s, settings.answer, own if threshold is None else threshold), g)
              for a, s, g, own in items]
    n_a = sum(1 for a, _, _ in chosen if a)
    n_u = len(chosen) - n_a
    with_gold = [(c, g) for a, c, g in chosen if a and c and g]
    hits = sum(1 for c, g in with_gold if _overlaps(c, g))
    return {"threshold": threshold,
            "refused_unanswerable": sum(1 for a, c, _ in chosen if not a and not c) / n_u if n_u else 0.0,
            "refused_answerable": sum(1 for a, c, _ in chosen if a and not c) / n_a if n_a else 0.0,
            "evidence_recall": hits / len(with_gold) if with_gold else 0.0}


def _operating_point(curve: list[dict[str, float | None]]) -> dict[str, float | None]:
    def num(c: dict[str, float | None], key: str) -> float:
        return float(c[key] or 0.0)

    meeting = [c for c in curve if num(c, "refused_unanswerable") >= TARGET_REFUSAL
               and num(c, "refused_answerable") <= MAX_FALSE_REFUSAL]
    bounded = [c for c in curve if num(c, "refused_answerable") <= MAX_FALSE_REFUSAL]
    if meeting:
        return min(meeting, key=lambda c: (num(c, "refused_answerable"), -num(c, "refused_unanswerable")))
    if bounded:  # the false-refusal bound holds: refuse as many unanswerables as it allows
        return max(bounded, key=lambda c: (num(c, "refused_unanswerable"), -num(c, "refused_answerable")))
    return max(curve, key=lambda c: num(c, "refused_unanswerable") - num(c, "refused_answerable"))


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    from assistant.index.embedding import Embedder

    root = settings.eval_data / "clapnq" / "dev"
    splits = ("heldout",) if quick else ("dev", "heldout")
    answerable = _load(root / "clapnq_dev_answerable.jsonl", splits)
    unanswerable = _load(root / "clapnq_dev_unanswerable.jsonl", splits)
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    items: dict[str, list[Item]] = {split: [] for split in splits}
    # the other refusal mode, reported beside the product's (`alternative`) so both stay measured
    other = settings.answer.model_copy(update={"refusal": "support" if settings.answer.refusal == "combiner"
                                               else "combiner"})
    alt: dict[str, list[Item]] = {split: [] for split in splits}
    records = [(True, r) for r in answerable] + [(False, r) for r in unanswerable]
    iterator: Any = records
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(records, desc="clapnq", leave=False)
    for is_answerable, record in iterator:
        passages = _passages(record)
        scored = score_sentences(str(record["input"]), passages, embedder=embedder, scoring=settings.answer.scoring)
        gold = _gold_spans(record, passages) if is_answerable else set()
        split = split_of(str(record["id"]))
        items[split].append((is_answerable, scored, gold,
                             refusal_floor(str(record["input"]), scored, passages, settings.answer)))
        alt[split].append((is_answerable, scored, gold, refusal_floor(str(record["input"]), scored, passages, other)))
    held = items["heldout"]
    current = _rates(held, settings, None)
    out: dict[str, Any] = {
        "split": "sha256(id)[0] even = dev, odd = heldout",
        "n_answerable": sum(1 for a, *_ in held if a),
        "n_unanswerable": sum(1 for a, *_ in held if not a),
        "min_support": settings.answer.min_support,
        "min_support_identifiers": settings.answer.min_support_identifiers,
        "refusal": settings.answer.refusal,
        "refusal_rate": current["refused_unanswerable"],
        "false_refusal_rate": current["refused_answerable"],
        "evidence_recall": current["evidence_recall"],
        "alternative": {"refusal": other.refusal, **{split: _rates(alt[split], settings, None) for split in splits}},
    }
    if "dev" in items:
        dev = items["dev"]
        curve = [_rates(dev, settings, t) for t in GRID]
        best = _operating_point(curve)
        own = _rates(dev, settings, None)
        out["dev"] = {"n_answerable": sum(1 for a, *_ in dev if a), "n_unanswerable": sum(1 for a, *_ in dev if not a),
                      "refusal_rate": own["refused_unanswerable"], "false_refusal_rate": own["refused_answerable"],
                      "evidence_recall": own["evidence_recall"], "curve": curve, "operating_point": best,
                      "target_met": bool(float(best["refused_unanswerable"] or 0) >= TARGET_REFUSAL
                                         and float(best["refused_answerable"] or 0) <= MAX_FALSE_REFUSAL)}
        out["heldout_curve"] = [_rates(held, settings, t) for t in GRID]
    log.info("clapnq suite n=%d refusal=%.3f false_refusal=%.3f", len(held), out["refusal_rate"],
             out["false_refusal_rate"])
    return out
