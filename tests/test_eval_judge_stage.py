"""The judge's second-stage evaluation (`evals.judge_stage`): its rates, AUC and threshold choice on small,
hand-made decision sets (the ClapNQ run itself is `python -m evals.judge_stage`)."""

from __future__ import annotations

from evals.judge_stage import Item, _best_threshold, auc, rates


def _item(rid: str, answerable: bool, refused: bool) -> Item:
    return Item(rid, "dev", answerable, refused, 0.05, 0.5)


ROWS = [_item("a1", True, False), _item("a2", True, True), _item("a3", True, False), _item("a4", True, False),
        _item("a5", True, False), _item("a6", True, False), _item("a7", True, False),
        _item("u1", False, True), _item("u2", False, False), _item("u3", False, False)]


def test_rates_take_the_override_per_record() -> None:
    assert rates(ROWS, {}) == {"refusal_rate": round(1 / 3, 4), "false_refusal_rate": round(1 / 7, 4)}
    assert rates(ROWS, {"a2": False, "u2": True}) == {"refusal_rate": round(2 / 3, 4), "false_refusal_rate": 0.0}


def test_auc_counts_ties_half_and_orders_by_score() -> None:
    rows = [ROWS[0], ROWS[1], ROWS[7], ROWS[8]]
    assert auc(rows, {"a1": 0.9, "a2": 0.8, "u1": 0.1, "u2": 0.2}) == 1.0
    assert auc(rows, {"a1": 0.1, "a2": 0.2, "u1": 0.9, "u2": 0.8}) == 0.0
    assert auc(rows, {"a1": 0.5, "a2": 0.5, "u1": 0.5, "u2": 0.5}) == 0.5


def test_threshold_refuses_most_unanswerables_within_the_false_refusal_bound() -> None:
    # the band holds a2 (answerable), u2 and u3 (unanswerable); a score that separates them lets the stage answer a2
    # and refuse u2 and u3, which the combiner alone did not
    t, got = _best_threshold(ROWS, {"a2": 0.7, "u2": 0.3, "u3": 0.4})
    assert 0.4 < t <= 0.7
    assert got == {"refusal_rate": 1.0, "false_refusal_rate": 0.0}
