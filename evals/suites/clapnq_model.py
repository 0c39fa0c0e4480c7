"""ClapNQ refusal with a model backend: does the product refuse an unanswerable question once the model is asked?

`python -m evals clapnq_model --backend llamacpp --sample 0:40` answers ClapNQ records through the product's
`Answerer` (the same code path as `evals/suites/hotpotqa_model.py`), over each record's own passages. The split is
the ClapNQ suite's (`evals.suites.clapnq.split_of`): `dev` by default, `heldout` with ASSISTANT_EVAL_SPLIT=heldout.
Records are taken answerable and unanswerable in turn (file order), so any `--sample` prefix is balanced.

A refusal is a final answer with status no_evidence, whoever decided it: the support gate before the model is
asked, the model's NOT FOUND, or the short-answer path removing an answer no retrieved sentence holds (or none
that verified) and the extractive fallback then refusing too. Reported: refusal rate on unanswerables, false
refusal on answerables, and for unanswerables the model was asked: how many answers attribution removed and how
many of those ended refused (that step's own share of the refusals). `gate_curve`: the same two rates had the
short path's gate been t (t >= the run's gate; a record asked is answered the same at any gate that still asks it),
so one run with a low gate gives the whole curve. Without a model backend (`python -m evals clapnq_model`): the
gate alone per t (`gate_only`), no model asked.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from assistant.answer.extractive import support_threshold
from assistant.answer.short import short_value
from assistant.config import Settings
from evals import metrics
from evals.suites import progress_iter, sample_slice
from evals.suites.clapnq import _load, _passages
from evals.suites.hotpotqa_model import GATE_GRID, best_support, keep_row, model_answerer, support_band

log = logging.getLogger(__name__)

SPLIT_ENV = "ASSISTANT_EVAL_SPLIT"
CASE = "clapnq"


def _interleaved(answerable: list[dict[str, Any]], unanswerable: list[dict[str, Any]]) -> list[tuple[bool, Any]]:
    out: list[tuple[bool, Any]] = []
    for i in range(max(len(answerable), len(unanswerable))):
        out.extend([(True, answerable[i])] if i < len(answerable) else [])
        out.extend([(False, unanswerable[i])] if i < len(unanswerable) else [])
    return out


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    from evals.suites import make_embedder
    from evals.suites.hotpotqa import _model_backend

    split = os.environ.get(SPLIT_ENV, "dev").strip() or "dev"
    if split not in ("dev", "heldout"):
        raise ValueError(f"{SPLIT_ENV}={split!r}: expected dev or heldout")
    backend = _model_backend(settings)
    root = settings.eval_data / "clapnq" / "dev"
    records = _interleaved(_load(root / "clapnq_dev_answerable.jsonl", (split,)),
                           _load(root / "clapnq_dev_unanswerable.jsonl", (split,)))
    embedder = make_embedder(settings)
    if backend is None:  # no model: what the gate alone refuses at each t, and how many records a lower gate adds
        return {"split": split, "gate_only": gate_only([
            {"answerable": a, "best": best_support(settings, embedder, CASE, str(r["input"]), _passages(r)),
             "threshold": support_threshold(str(r["input"]), settings.answer)} for a, r in records])}
    band = support_band()
    if band is not None:  # only the records a gate between LO and HI decides (the others answered alike)
        records = [(a, r) for a, r in records
                   if band[0] <= best_support(settings, embedder, CASE, str(r["input"]), _passages(r)) < band[1]]
    sample, span = sample_slice(records)
    support: dict[str, tuple[float, float]] = {}
    answer = model_answerer(settings, embedder, backend, CASE, support)
    rows: list[dict[str, Any]] = []
    for is_answerable, record in progress_iter(sample, desc="clapnq model", total=len(sample), enabled=progress):
        question = str(record["input"])
        try:
            final, draft, seconds = answer(question, _passages(record))
        except Exception as exc:  # one failing record must not lose the batch
            log.warning("clapnq model answer failed id=%s error=%s", record["id"], type(exc).__name__)
            rows.append({"id": str(record["id"]), "answerable": is_answerable, "error": type(exc).__name__})
            continue
        best, threshold = support.get(question, (0.0, 0.0))
        value = short_value(draft, question) if draft else ""
        rows.append({"id": str(record["id"]), "answerable": is_answerable, "best": round(best, 4),
                     "threshold": threshold, "asked": bool(final.prompt_version), "status": final.status,
                     "value": value, "removed": bool(value) and value in final.flagged_claims,
                     "fallback": bool(final.prompt_version) and final.backend == "extractive",
                     "seconds": round(seconds, 2)})
        keep_row(rows[-1])
    gate = settings.answer.short_min_support
    return {"split": split, "sample": span, "support_band": list(band) if band else None,
            "answer_backend": f"{backend.name}:{backend.model}",
            "short_min_support": gate, **summarise(rows, gate)}


def gate_only(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Per gate t: share refused by the gate alone (best < min(t, threshold)) and records in [t, threshold)."""
    una = [r for r in rows if not r["answerable"]]
    ans = [r for r in rows if r["answerable"]]
    return [{"gate": t, "n_unanswerable": len(una), "n_answerable": len(ans),
             "refusal_rate": round(metrics.mean(r["best"] < min(t, r["threshold"]) for r in una), 4),
             "false_refusal_rate": round(metrics.mean(r["best"] < min(t, r["threshold"]) for r in ans), 4),
             "band_unanswerable": sum(1 for r in una if t <= r["best"] < r["threshold"]),
             "band_answerable": sum(1 for r in ans if t <= r["best"] < r["threshold"])} for t in GATE_GRID]


def _refused(row: dict[str, Any], gate: float | None = None) -> bool:
    if "error" in row:
        return False
    if gate is not None and row["best"] < min(gate, row["threshold"]):
        return True
    return bool(row["status"] == "no_evidence")


def summarise(rows: list[dict[str, Any]], run_gate: float) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    asked_una = [r for r in una if r.get("asked")]
    removed_una = [r for r in asked_una if r.get("removed")]
    curve = [{"gate": t, "refusal_rate": round(metrics.mean(_refused(r, t) for r in una), 4) if una else 0.0,
              "false_refusal_rate": round(metrics.mean(_refused(r, t) for r in ans), 4) if ans else 0.0}
             for t in GATE_GRID if t >= run_gate - 1e-9]
    return {
        "n_answerable": len(ans), "n_unanswerable": len(una), "errors": sum(1 for r in rows if "error" in r),
        "refusal_rate": metrics.mean(_refused(r) for r in una) if una else 0.0,
        "false_refusal_rate": metrics.mean(_refused(r) for r in ans) if ans else 0.0,
        "unanswerable_asked": len(asked_una),
        "unanswerable_answer_removed": len(removed_una),
        "unanswerable_removed_then_refused": sum(1 for r in removed_una if r["status"] == "no_evidence"),
        "unanswerable_model_not_found": sum(1 for r in asked_una if not r["value"]),
        "answerable_asked": sum(1 for r in ans if r.get("asked")),
        "answerable_answer_removed": sum(1 for r in ans if r.get("removed")),
        "seconds_per_record": metrics.mean(r["seconds"] for r in rows if "seconds" in r) if rows else 0.0,
        "gate_curve": curve,
        "per_record": rows,
    }
