"""Known-answer tests for evals.metrics: every expected value below was computed by hand."""

from __future__ import annotations

import math

import pytest

from evals import metrics as m


def test_ndcg_binary_hand_computed() -> None:
    # relevant {a, c}; ranking a, b, c -> DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309
    got = m.ndcg_at_k(["a", "b", "c"], {"a", "c"}, 10)
    assert got == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert got == pytest.approx(0.91972, abs=1e-5)


def test_ndcg_cutoff_and_graded() -> None:
    # relevant only at rank 3, k=2 -> 0
    assert m.ndcg_at_k(["x", "y", "a"], {"a"}, 2) == 0.0
    # perfect ranking -> 1
    assert m.ndcg_at_k(["a", "b"], {"a": 2, "b": 1}, 10) == pytest.approx(1.0)
    # graded, swapped: DCG = 1 + 2/log2(3) = 2.26186; IDCG = 2 + 1/log2(3) = 2.63093
    assert m.ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 10) == pytest.approx(2.26186 / 2.63093, abs=1e-5)
    # no relevant docs -> 0, and duplicates in a ranking count once
    assert m.ndcg_at_k(["a"], set(), 10) == 0.0
    assert m.ndcg_at_k(["a", "a", "c"], {"a", "c"}, 10) == pytest.approx(1.0)


def test_ndcg_ideal_uses_k() -> None:
    # 3 relevant, k=1, top-1 relevant -> 1.0 (ideal DCG is truncated at k too)
    assert m.ndcg_at_k(["a", "x"], {"a", "b", "c"}, 1) == 1.0


def test_recall_and_hit() -> None:
    assert m.recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, 2) == 0.25
    assert m.recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, 3) == 0.5
    assert m.recall_at_k([], {"a"}, 5) == 0.0
    assert m.recall_at_k(["a"], set(), 5) == 0.0
    assert m.hit_at_k(["x", "a"], {"a"}, 1) == 0.0
    assert m.hit_at_k(["x", "a"], {"a"}, 2) == 1.0
    assert m.recall_at_k(["a", "b"], {"a": 0, "b": 1}, 2) == 1.0  # grade 0 is not relevant


def test_mrr() -> None:
    # ranks 1, 3, none -> (1 + 1/3 + 0) / 3 = 0.4444
    runs = [["a", "b"], ["x", "y", "a"], ["x"]]
    rel = [{"a"}, {"a"}, {"a"}]
    assert m.mrr(runs, rel) == pytest.approx(4 / 9)
    assert m.mrr(runs, rel, k=2) == pytest.approx(1 / 3)
    assert m.mrr([], []) == 0.0
    with pytest.raises(ValueError):
        m.mrr([["a"]], [])


def test_precision_recall_fbeta() -> None:
    r = m.precision_recall_fbeta(tp=6, fp=2, fn=4)
    assert r["precision"] == 0.75
    assert r["recall"] == 0.6
    assert r["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)  # 0.6667
    f2 = m.precision_recall_fbeta(tp=6, fp=2, fn=4, beta=2)["f2"]
    assert f2 == pytest.approx(5 * 0.75 * 0.6 / (4 * 0.75 + 0.6))  # 0.625
    assert m.precision_recall_fbeta(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert "f0.5" in m.precision_recall_fbeta(1, 1, 1, beta=0.5)
    with pytest.raises(ValueError):
        m.precision_recall_fbeta(-1, 0, 0)


def test_squad_normalisation_em_f1() -> None:
    assert m.normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert m.exact_match("the Beatles.", "Beatles") == 1.0
    assert m.exact_match("Beatles band", "Beatles") == 0.0
    # pred "a spirit of the night" -> [spirit, of, night]; gold "a spirit" -> [spirit]; P=1/3, R=1, F1=0.5
    assert m.token_f1("a spirit of the night", "a spirit") == pytest.approx(0.5)
    # multiset overlap: pred [x, x, y], gold [x, y, y] -> common 2; P=R=2/3
    assert m.token_f1("x x y", "x y y") == pytest.approx(2 / 3)
    assert m.token_f1("", "") == 1.0
    assert m.token_f1("the", "an") == 1.0  # both normalise to empty
    assert m.token_f1("yes", "") == 0.0
    assert m.token_f1("red", "blue") == 0.0
    assert m.best_over_golds("Paris", ["London", "paris"]) == 1.0


def test_refusal_rates() -> None:
    answerable = [True, True, True, True, False, False]
    refused = [False, False, False, True, True, False]
    r = m.refusal_rates(answerable, refused)
    assert r["answered_rate"] == 0.75
    assert r["false_refusal_rate"] == 0.25
    assert r["refusal_rate"] == 0.5
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert (r["n_answerable"], r["n_unanswerable"]) == (4, 2)
    assert m.refusal_rates([], [])["accuracy"] == 0.0


def test_evidence_containment_whitespace_only() -> None:
    passage = "Sent at 21:04:\n  meet at the\tdepot  on Friday"
    assert m.contains_evidence(passage, "meet at the depot on Friday")
    assert not m.contains_evidence(passage, "meet at the depot on Saturday")
    assert not m.contains_evidence(passage, "   ")
    assert m.mean([]) == 0.0
