"""The Gemma question-answering measurement tool (evals.gemma_qa): its AUC, its gold-sentence spans, its first-is-gold
count and its features read from vectors cached on disk (no model is loaded: every vector asked for is cached)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from evals.gemma_qa import DOC_PROMPT, QUERY_PROMPTS, GemmaVectors, auc, first_is_gold, gemma_features, hotpot_gold


def test_auc_counts_pairs_and_ties() -> None:
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5, 0.7], [0.5, 0.6]) == pytest.approx((0.5 + 0.0 + 1.0 + 1.0) / 4)


def test_hotpot_gold_spans_point_at_the_supporting_sentences() -> None:
    sentences = ["The mill was built in 1820.", " It burned down in 1901.", " A school stands there now."]
    text = "Old Mill\n" + "".join(sentences)
    spans = hotpot_gold("Old Mill", sentences, [1, 2])
    assert [text[a:b] for a, b in spans] == sentences[1:]


def test_first_is_gold_compares_todays_order_with_a_score() -> None:
    rows = [{"gold": [False, True], "qa": [0.2, 0.6]},  # support first is wrong, the score picks the gold one
            {"gold": [True, False], "qa": [0.3, 0.4]},  # the other way round
            {"gold": [True, False], "qa": [0.9, 0.1]},
            {"gold": [False, False], "qa": [0.5, 0.1]}]  # no gold sentence scored: not counted
    assert first_is_gold(rows, "support") == (2, 3)
    assert first_is_gold(rows, "qa") == (2, 3)


def test_features_come_from_cached_vectors_without_a_model(tmp_path: Path) -> None:
    question = "When did the mill burn down?"
    sentences = ["The mill was built in 1820.", "It burned down in 1901.", "A school stands there now."]
    passage = " ".join(sentences)
    basis = np.eye(4, dtype=np.float32)
    vectors = {DOC_PROMPT + sentences[0]: basis[0], DOC_PROMPT + sentences[1]: basis[1],
               DOC_PROMPT + sentences[2]: basis[2], DOC_PROMPT + passage: (basis[0] + basis[1]) / np.sqrt(2)}
    for prompt in QUERY_PROMPTS.values():
        vectors[prompt + question] = basis[1]
    cache = {hashlib.sha256(k.encode()).hexdigest(): v for k, v in vectors.items()}
    (tmp_path / "gemma_vecs.pkl").write_bytes(pickle.dumps(cache))
    g = GemmaVectors(tmp_path)
    feats = gemma_features(g, question, sentences, [passage])
    assert g.encoded == 0
    assert feats["gqa_max"] == pytest.approx(1.0) and feats["gqa_top"] == pytest.approx(0.0)
    assert feats["gqa_top3"] == pytest.approx(1.0) and feats["gqa_passage"] == pytest.approx(1 / np.sqrt(2))
    assert feats["gqa_margin"] == pytest.approx(1.0)
    assert gemma_features(g, question, [], [passage]) == dict.fromkeys(feats, 0.0)
