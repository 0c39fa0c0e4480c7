"""The short-path gate curves read one run at a low gate: a question asked there is answered alike at any gate that
still asks it; below min(gate, its own threshold) it counts as refused."""

from __future__ import annotations

from evals.suites.clapnq_model import gate_only, summarise
from evals.suites.hotpotqa_model import gate_curve


def _hot(best: float, f1: float, cited: int = 1, gold: int = 1, threshold: float = 0.575) -> dict[str, object]:
    return {"best": best, "threshold": threshold, "f1": f1, "em": float(f1 == 1.0), "cited": cited,
            "cited_gold": gold}


def test_hotpotqa_gate_curve_drops_questions_below_the_gate() -> None:
    rows = [_hot(0.70, 1.0), _hot(0.50, 1.0), _hot(0.40, 0.5, 2, 1), _hot(0.54, 1.0, threshold=0.55)]
    curve = {c["gate"]: c for c in gate_curve(rows, 0.30)}
    assert min(curve) == 0.30 and max(curve) == 0.575
    assert curve[0.3]["asked"] == 4 and curve[0.3]["f1"] == 0.875 and curve[0.3]["citation_precision"] == 0.875
    assert curve[0.45]["asked"] == 3 and curve[0.45]["f1"] == 0.75
    assert curve[0.575]["asked"] == 1 and curve[0.575]["f1"] == 0.25  # 0.54 < its own identifier threshold 0.55
    assert all(c["gate"] >= 0.5 for c in gate_curve(rows, 0.5))


def _clap(answerable: bool, best: float, status: str, value: str = "") -> dict[str, object]:
    return {"id": "x", "answerable": answerable, "best": best, "threshold": 0.575, "asked": best >= 0.30,
            "status": status, "value": value, "removed": bool(value) and status == "no_evidence",
            "fallback": False, "seconds": 1.0}


def test_clapnq_refusal_counts_the_gate_and_the_model_path() -> None:
    rows = [_clap(False, 0.2, "no_evidence"), _clap(False, 0.5, "no_evidence", "Paris"),
            _clap(False, 0.5, "answered", "Rome"), _clap(False, 0.7, "answered", "Oslo"),
            _clap(True, 0.5, "answered", "Bern"), _clap(True, 0.7, "no_evidence")]
    out = summarise(rows, 0.30)
    assert out["refusal_rate"] == 0.5 and out["false_refusal_rate"] == 0.5
    assert out["unanswerable_answer_removed"] == 1 and out["unanswerable_removed_then_refused"] == 1
    curve = {c["gate"]: c for c in out["gate_curve"]}
    assert curve[0.575]["refusal_rate"] == 0.75 and curve[0.575]["false_refusal_rate"] == 1.0
    only = {c["gate"]: c for c in gate_only(rows)}
    assert only[0.45]["band_unanswerable"] == 2 and only[0.45]["band_answerable"] == 1
    assert only[0.575]["refusal_rate"] == 0.75 and only[0.3]["refusal_rate"] == 0.25
