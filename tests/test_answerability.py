"""The answerability combiner: its shipped data file, its features on real scored sentences (the real packaged
embedder), the refusal it drives in the extractive answerer, and the fit that produced it (neutral text only)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.answerability import (
    DATA_FILE,
    FEATURES,
    Combiner,
    answer_features,
    combiner_floor,
    combiner_from,
    load_combiner,
)
from assistant.answer.extractive import QUESTION_NOISE, extractive_answer, refusal_floor, score_sentences
from assistant.config import AnswerSettings, EmbeddingSettings
from assistant.index.embedding import Embedder
from assistant.types import Passage
from evals.fit_answerability import choose_threshold, cross_validate, fit_logistic, rates

BRIDGE = ("Work on a crossing began in 1836 and took six years. "
          "The old stone bridge over the river was designed by the engineer Thomas Harrow and finished in 1842. "
          "The bridge has five arches and carried horse-drawn traffic until the 1920s. "
          "Today it is open only to pedestrians and cyclists.")
ANSWERABLE = "Who designed the old stone bridge over the river?"
UNANSWERABLE = "How much did the council pay to repaint the library roof?"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(EmbeddingSettings(), cache_dir=Path(tmp_path_factory.mktemp("emb")))


def passages() -> list[Passage]:
    return [Passage("doc-1", "c", "history/bridge.txt", "p. 1", BRIDGE, 0.9, 1)]


def test_shipped_combiner_records_how_it_was_fitted() -> None:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert data["command"].startswith("python -m evals.fit_answerability")
    assert "held-out half is never read" in data["data"]
    assert data["dev"]["combiner"]["false_refusal_rate"] <= 0.15
    combiner = load_combiner()
    assert set(combiner.features) <= set(FEATURES) and 0.0 < combiner.threshold < 1.0


def test_malformed_combiner_is_rejected_naming_the_file() -> None:
    good = load_combiner().to_json()
    with pytest.raises(ValueError, match=r"odd\.json"):
        combiner_from({**good, "coef": good["coef"][:-1]}, "odd.json")  # type: ignore[index]
    with pytest.raises(ValueError, match=r"odd\.json"):
        combiner_from({**good, "features": ["support", "made_up", *FEATURES[2:]]}, "odd.json")
    with pytest.raises(ValueError, match=r"odd\.json"):
        combiner_from({k: v for k, v in good.items() if k != "threshold"}, "odd.json")


def test_features_read_the_scored_sentences(embedder: Embedder) -> None:
    ps = passages()
    scored = score_sentences(ANSWERABLE, ps, embedder=embedder)
    feats = answer_features(ANSWERABLE, scored, ps, QUESTION_NOISE)
    assert set(feats) == set(FEATURES)
    assert feats["support"] == scored[0].support and feats["second"] == scored[1].support
    assert all(0.0 <= v <= 1.0 for v in feats.values())
    assert "Harrow" in scored[0].text and feats["coverage"] == 1.0  # designed, old, stone, bridge, river
    assert feats["passage_coverage"] == 1.0 and feats["lexical"] == feats["max_lexical"]
    assert answer_features(ANSWERABLE, [], ps) == dict.fromkeys(FEATURES, 0.0)


def test_combiner_answers_the_question_the_passage_holds_and_refuses_the_other(embedder: Embedder) -> None:
    ps = passages()
    combiner = load_combiner()
    probs = {}
    for question in (ANSWERABLE, UNANSWERABLE):
        scored = score_sentences(question, ps, embedder=embedder)
        probs[question] = combiner.probability(answer_features(question, scored, ps, QUESTION_NOISE))
    assert probs[ANSWERABLE] > combiner.threshold > probs[UNANSWERABLE]
    settings = AnswerSettings(refusal="combiner")
    yes = extractive_answer(ANSWERABLE, "c", ps, embedder=embedder, settings=settings)
    no = extractive_answer(UNANSWERABLE, "c", ps, embedder=embedder, settings=settings)
    assert yes.status == "answered" and "Thomas Harrow" in yes.citations[0].quote
    assert no.status == "no_evidence" and not no.citations


def test_floor_follows_the_decision(embedder: Embedder) -> None:
    ps = passages()
    scored = score_sentences(ANSWERABLE, ps, embedder=embedder)
    base = load_combiner()
    always = Combiner(base.features, base.mean, base.scale, base.coef, base.intercept, 0.0)
    never = Combiner(base.features, base.mean, base.scale, base.coef, base.intercept, 1.0)
    assert combiner_floor(ANSWERABLE, scored, ps, 1.5, combiner=always) == scored[0].support  # cites the best
    assert combiner_floor(ANSWERABLE, scored, ps, 0.1, combiner=always) == 0.1
    assert combiner_floor(ANSWERABLE, scored, ps, 0.1, combiner=never) == math.inf
    assert combiner_floor(ANSWERABLE, [], ps, 0.1, combiner=always) == math.inf
    weak = replace(always, min_support=scored[0].support + 0.01)  # the best sentence is below the support floor
    assert combiner_floor(ANSWERABLE, scored, ps, 0.1, combiner=weak) == math.inf
    gated = [replace(s, support=0.0) for s in scored]  # every sentence zeroed (e.g. by the answer-type gate)
    assert combiner_floor(ANSWERABLE, gated, ps, 0.1, combiner=always) == math.inf
    # the support-only switch ignores the combiner
    assert refusal_floor(ANSWERABLE, scored, ps, AnswerSettings(refusal="support")) == AnswerSettings().min_support


def test_fit_recovers_the_informative_feature_and_bounds_false_refusal() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
    coef, _ = fit_logistic(x, y, c=1.0)
    assert coef[0] > 2.0 and abs(coef[1]) < 0.5 * coef[0]
    names = FEATURES[:2]
    rows = [(bool(label), float(row[0]), 0.0, {names[0]: float(row[0]), names[1]: float(row[1])})
            for row, label in zip(x, y, strict=True)]
    base = Combiner(names, (0.0, 0.0), (1.0, 1.0), (float(coef[0]), float(coef[1])), 0.0, 0.5)
    chosen = choose_threshold(rows, base)
    got = rates(rows, chosen)
    assert got["false_refusal_rate"] <= 0.15 and got["refusal_rate"] > 0.8
    # held-apart folds: the informative feature keeps its rates, the noise feature alone refuses far less
    cleared = [(a, 1.0, t, f) for a, _, t, f in rows[:120]]  # every best sentence clears the support floor
    held = cross_validate(cleared, names, c=1.0, repeats=2)
    noise = cross_validate(cleared, names[1:], c=1.0, repeats=2)
    assert held["refusal_rate"] > 0.75 and held["false_refusal_rate"] < 0.25
    assert noise["refusal_rate"] < held["refusal_rate"] - 0.3
