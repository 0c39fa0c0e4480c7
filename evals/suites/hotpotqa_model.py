"""HotpotQA answered by a model backend through the product's real answerer (retrieval -> answer -> verify).

`python -m evals hotpotqa --backend llamacpp --sample 0:30` answers the sample's questions with
`assistant.answer.answerer.Answerer` over the same retrieved passages as the extractive run (the backend shows the
model its top `max_passages` of them). What is scored is the DIRECT answer after verification, i.e. what a reader
sees first:
- a refused answer (no_evidence) is the empty string;
- a model answer's first line; when the answerer expanded a bare value ("Paris [1]" -> "Paris: <sentence> [1]")
  and it survived verification, the value alone; citation markers removed;
- a fallback to the extractive answer is scored on its first line too (a whole sentence).
Citation precision: the cited passage is a gold supporting title. Also reported: the share of drafts with at least
one claim removed by verification, the share of answers written by the extractive fallback (model failed, drafted
nothing verifiable, or said NOT FOUND with a strong sentence), the share refused before the model was asked, and
seconds per question. `per_question` keeps short rows (ids, answers, flags; no passage text) for error analysis.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from assistant.answer.short import SHORT_PROMPT_VERSION, short_value
from assistant.config import Settings
from assistant.types import Answer, Passage
from evals import metrics
from evals.suites import progress_iter

log = logging.getLogger(__name__)

_MARKERS = re.compile(r"\s*\[\s*(?:passage\s*)?\d{1,3}(?:\s*[,;\-–]\s*\d{1,3})*\s*\]", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:[-*•]\s*)?(?:(?:final\s+|short\s+|direct\s+)?answer\s*:\s*)?", re.IGNORECASE)

BAND_ENV = "ASSISTANT_EVAL_BAND"
ROWS_ENV = "ASSISTANT_EVAL_ROWS"
AnswerFn = Callable[[str, list[Passage]], tuple[Answer, str, float]]
GATE_GRID = tuple(round(0.025 * k, 3) for k in range(12, 24))  # 0.300 .. 0.575: short-path gates compared


def model_answerer(settings: Settings, embedder: Any, backend: Any, case: str = "hotpotqa",
                   support: dict[str, tuple[float, float]] | None = None) -> AnswerFn:
    """(question, passages) -> (final Answer, raw draft, seconds) through the product's Answerer; `support`, when
    given, receives each question's best sentence support and its claims-path threshold (what the refusal gate
    reads), for `gate_curve`."""
    from assistant.answer.answerer import Answerer
    from assistant.answer.extractive import support_threshold

    answerer = Answerer(settings, backend, embedder)

    def answer(question: str, passages: list[Passage]) -> tuple[Answer, str, float]:
        if support is not None:
            support[question] = (best_support(settings, embedder, case, question, passages),
                                 support_threshold(question, settings.answer))
        start = time.perf_counter()
        pieces: list[str] = []
        final: Answer | None = None
        for item in answerer.stream(question, case, passages):
            if isinstance(item, Answer):
                final = item
            else:
                pieces.append(item)
        assert final is not None  # the stream always ends with the Answer
        draft = "".join(pieces) if final.model and final.prompt_version else ""
        return final, draft, time.perf_counter() - start

    return answer


def keep_row(row: dict[str, Any]) -> None:
    """Append `row` to the JSON-lines file named by ASSISTANT_EVAL_ROWS, when set: a long model run cut short
    keeps the rows it answered (summarise them with `summarise`)."""
    path = os.environ.get(ROWS_ENV, "").strip()
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


def support_band() -> tuple[float, float] | None:
    """ASSISTANT_EVAL_BAND="LO:HI": ask the model only about questions whose best support is in [LO, HI) (e.g.
    those a lower gate would add), the others left out of the run; None when unset."""
    spec = os.environ.get(BAND_ENV, "").strip()
    if not spec:
        return None
    lo, _, hi = spec.partition(":")
    return float(lo), float(hi)


def best_support(settings: Settings, embedder: Any, case: str, question: str, passages: list[Passage]) -> float:
    from assistant.answer.extractive import score_sentences

    scored = score_sentences(question, passages, embedder=embedder.for_case(case),
                             scoring=settings.answer.scoring) if passages else []
    return scored[0].support if scored else 0.0


def strip_markers(text: str) -> str:
    return " ".join(_MARKERS.sub("", text).split()).strip(" .")


def draft_value(draft: str) -> str:
    """The value on the draft's first non-empty line (markers and an "Answer:" lead removed)."""
    for line in draft.splitlines():
        if line.strip():
            return strip_markers(_LEAD.sub("", line.replace("**", ""), count=1)).strip(" \"'“”")
    return ""


def direct_answer(answer: Answer, draft: str) -> str:
    """What the reader sees first, as scored (see the module docstring)."""
    if answer.status == "no_evidence" or not answer.answer.strip():
        return ""
    first = next((line for line in answer.answer.splitlines() if line.strip()), "")
    if answer.prompt_version == SHORT_PROMPT_VERSION and answer.backend != "extractive":
        value = short_value(draft, answer.question)  # the answerer led with it: "<value>: <sentence> [n]"
        return value if first.startswith(value + ":") else strip_markers(first)
    value = draft_value(draft) if answer.backend != "extractive" else ""
    if value and first.strip().casefold().startswith(value.casefold() + ":"):
        return value
    return strip_markers(first)


def answer_metrics(questions: Sequence[Any], passages_for: Callable[[Any], list[Passage]], answer_fn: AnswerFn,
                   progress: bool, support: dict[str, tuple[float, float]] | None = None,
                   run_gate: float | None = None) -> dict[str, Any]:
    """EM/F1 of the direct answer, citation precision/recall and the verification/fallback shares; with `support`
    (filled by `model_answerer`) and `run_gate` (the run's short-path gate) each row keeps its best support and
    threshold, and `gate_curve` the scores the other gates would have given."""
    rows: list[dict[str, Any]] = []
    for q in progress_iter(questions, desc="hotpotqa model answer", total=len(questions), enabled=progress):
        passages = passages_for(q)
        try:
            final, draft, seconds = answer_fn(q.question, passages)
        except Exception as exc:  # one failing question must not lose the batch
            log.warning("hotpotqa model answer failed qid=%s error=%s", q.qid, type(exc).__name__)
            rows.append({"qid": q.qid, "error": type(exc).__name__, "em": 0.0, "f1": 0.0, "seconds": 0.0})
            continue
        rows.append(_row(q, final, draft, seconds))
        if support is not None:
            best, threshold = support.get(q.question, (0.0, 0.0))
            rows[-1].update(best=round(best, 4), threshold=threshold)
        keep_row(rows[-1])
    out = summarise(rows)
    if support is not None and run_gate is not None:
        out["gate_curve"] = gate_curve(rows, run_gate)
    return out


def gate_curve(rows: Sequence[dict[str, Any]], run_gate: float) -> list[dict[str, float]]:
    """F1/EM/citation precision had the short path's gate been t (t >= the run's gate: a question the run asked is
    answered the same at any gate that still asks it, since the answer does not read the gate): a question whose
    best support is below min(t, its claims-path threshold) is refused (F1 0, no citation)."""
    curve = []
    for t in (g for g in GATE_GRID if g >= run_gate - 1e-9):
        kept = [r for r in rows if "error" not in r and r.get("best", 0.0) >= min(t, r.get("threshold", 1.0))]
        cited = [r for r in kept if r["cited"]]
        n = len(rows)
        curve.append({"gate": t, "asked": len(kept), "f1": round(sum(r["f1"] for r in kept) / n, 4) if n else 0.0,
                      "em": round(sum(r["em"] for r in kept) / n, 4) if n else 0.0,
                      "citation_precision": round(metrics.mean(r["cited_gold"] / r["cited"] for r in cited), 4)
                      if cited else 0.0})
    return curve


def _row(q: Any, final: Answer, draft: str, seconds: float) -> dict[str, Any]:
    direct = direct_answer(final, draft)
    cited = list(dict.fromkeys(c.chunk_id for c in final.citations))
    gold = set(q.supporting_titles)
    return {
        "qid": q.qid, "gold": q.answer, "direct": direct, "status": final.status,
        "em": metrics.exact_match(direct, q.answer), "f1": metrics.token_f1(direct, q.answer),
        "answer_in_text": float(bool(metrics.normalize_answer(q.answer))
                                and metrics.normalize_answer(q.answer) in metrics.normalize_answer(final.answer)),
        "cited": len(cited), "cited_gold": sum(1 for c in cited if c in gold),
        "cite_recall": len(set(cited) & gold) / len(gold) if gold else 0.0,
        "asked": bool(final.prompt_version), "removed": len(final.flagged_claims),
        "fallback": bool(final.prompt_version) and final.backend == "extractive",
        "seconds": round(seconds, 2), "draft": draft.strip(), "flagged": list(final.flagged_claims),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if "error" not in r]
    asked = [r for r in ok if r["asked"]]
    cited = [r for r in ok if r["cited"]]
    n = len(rows)
    return {
        "n": n,
        "em": metrics.mean(r["em"] for r in rows),
        "f1": metrics.mean(r["f1"] for r in rows),
        "answer_in_text": metrics.mean(r["answer_in_text"] for r in ok) if ok else 0.0,
        "citation_precision": metrics.mean(r["cited_gold"] / r["cited"] for r in cited) if cited else 0.0,
        "citation_precision_n": len(cited),
        "citation_recall": metrics.mean(r["cite_recall"] for r in ok) if ok else 0.0,
        "refused": sum(1 for r in ok if r["status"] == "no_evidence"),
        "not_asked": len(ok) - len(asked),
        "share_removed_claim": sum(1 for r in asked if r["removed"]) / n if n else 0.0,
        "share_fallback_extractive": sum(1 for r in asked if r["fallback"]) / n if n else 0.0,
        "errors": n - len(ok),
        "seconds_per_question": metrics.mean(r["seconds"] for r in ok) if ok else 0.0,
        "per_question": list(rows),
    }
