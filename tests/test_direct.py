"""A model's bare-value reply ("AB12 CDE [1]") becomes a checkable claim: the value plus the retrieved sentence that
holds it and best supports the question; values no sentence holds stay as they are (and the verifier removes them).
Real embedder, neutral text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import Answerer
from assistant.answer.direct import expand_direct_answers
from assistant.answer.extractive import score_sentences, support_threshold
from assistant.config import load_settings
from assistant.index.embedding import Embedder
from tests.fakes import ScriptedBackend
from tests.test_extractive import case_passages

QUESTION = "What was the registration of the white van?"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


def test_bare_value_is_expanded_with_its_sentence(embedder: Embedder) -> None:
    passages = case_passages()
    scored = score_sentences(QUESTION, passages, embedder=embedder)
    threshold = support_threshold(QUESTION, load_settings().answer)
    draft, expanded = expand_direct_answers("Answer: AB12 CDE [1]\nThe van was white [1].", scored, threshold)
    first, second = draft.splitlines()
    assert expanded == 1
    assert first.startswith("AB12 CDE: ") and "registration AB12 CDE" in first and first.endswith("[1]")
    assert second == "The van was white [1]."  # a sentence is left for the verifier as it is


def test_value_found_in_no_sentence_is_left_alone(embedder: Embedder) -> None:
    passages = case_passages()
    scored = score_sentences(QUESTION, passages, embedder=embedder)
    draft, expanded = expand_direct_answers("ZZ99 ZZZ [1]", scored, 0.0)
    assert (draft, expanded) == ("ZZ99 ZZZ [1]", 0)


def test_answerer_keeps_a_verified_direct_answer_and_drops_an_invented_one(embedder: Embedder) -> None:
    settings = load_settings()
    good = Answerer(settings, ScriptedBackend(["AB12 CDE [1]"]), embedder).answer(QUESTION, "k", case_passages())
    assert good.status == "answered" and good.backend == "fake"
    assert good.answer.startswith("AB12 CDE: ") and good.citations and all(c.verified for c in good.citations)
    assert "AB12 CDE" in good.citations[0].quote
    invented = Answerer(settings, ScriptedBackend(["XY34 ZZZ [1]"]), embedder).answer(QUESTION, "k", case_passages())
    assert "XY34 ZZZ" not in invented.answer and invented.backend == "extractive"
