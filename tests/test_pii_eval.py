"""The PII suite's metric functions on hand-computed examples, and the UK gold set's integrity."""

from __future__ import annotations

import itertools
import json

import pytest

from evals.suites.pii import (
    GOLD_PATH,
    f_beta,
    load_uk_gold,
    match_counts,
    overlaps,
    prf,
    score_set,
    typed_recall,
    wrong_type_rate,
)

KNOWN_TYPES = {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "UK_NINO", "UK_POSTCODE", "UK_VEHICLE_REGISTRATION",
               "UK_DRIVING_LICENCE", "UK_PASSPORT", "UK_NHS", "IMEI", "UK_SORT_CODE", "UK_BANK_ACCOUNT", "UK_PNC_ID",
               "UK_CRO_NUMBER", "SOCIAL_HANDLE", "UK_ADDRESS"}


def test_overlap_is_partial_and_half_open() -> None:
    assert overlaps(("A", 0, 5), ("A", 4, 9))
    assert not overlaps(("A", 0, 5), ("A", 5, 9))


def test_f2_hand_computed() -> None:
    assert f_beta(0.5, 1.0) == pytest.approx(5 * 0.5 / (4 * 0.5 + 1))  # 0.8333
    assert f_beta(1.0, 0.5) == pytest.approx(5 * 0.5 / (4 + 0.5))  # 0.5556
    assert f_beta(0.0, 0.0) == 0.0


def test_match_counts_typed_and_untyped() -> None:
    gold = [("PERSON", 0, 10), ("PHONE_NUMBER", 20, 32)]
    pred = [("PERSON", 5, 8), ("DATE_TIME", 20, 32), ("PERSON", 40, 45)]
    typed = match_counts(gold, pred)
    assert typed == {"PERSON": [1, 1, 1, 2], "PHONE_NUMBER": [0, 1, 0, 0], "DATE_TIME": [0, 0, 0, 1]}
    assert match_counts(gold, pred, typed=False) == {"*": [2, 2, 2, 3]}
    res = score_set([gold], [pred])
    assert res["PERSON"]["precision"] == 0.5 and res["PERSON"]["recall"] == 1.0
    assert res["overall"] == prf([1, 2, 1, 3])
    assert res["untyped"]["recall"] == 1.0 and res["untyped"]["precision"] == pytest.approx(0.6667, abs=1e-4)


def test_identifier_recall_and_wrong_type_rate() -> None:
    gold = [[("PHONE_NUMBER", 0, 12), ("IMEI", 20, 35), ("PERSON", 40, 45)]]
    pred = [[("PHONE_NUMBER", 0, 12), ("CREDIT_CARD", 20, 35), ("PERSON", 40, 45)]]
    assert typed_recall(gold, pred, {"PHONE_NUMBER", "IMEI"}) == 0.5
    assert wrong_type_rate(gold, pred, {"PHONE_NUMBER", "IMEI"}) == 0.5


def test_uk_gold_offsets_are_valid() -> None:
    rows = [json.loads(line) for line in GOLD_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    n_spans = 0
    kinds = {"formal": 0, "informal": 0}
    for row in rows:
        text, spans = row["text"], sorted(row["spans"], key=lambda s: s["start"])
        kinds["informal" if text == text.lower() else "formal"] += 1
        for s in spans:
            assert s["type"] in KNOWN_TYPES
            assert 0 <= s["start"] < s["end"] <= len(text)
            assert text[s["start"]:s["end"]] == s["value"] == s["value"].strip()
        assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(spans))
        n_spans += len(spans)
    assert n_spans >= 80 and kinds["informal"] >= 15 and kinds["formal"] >= 15
    texts, gold = load_uk_gold()
    assert len(texts) == len(rows) and sum(len(g) for g in gold) == n_spans
    assert 0 < len(load_uk_gold(split="heldout")[0]) < len(rows)
