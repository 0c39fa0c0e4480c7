"""The HotpotQA model-answer wiring (evals/suites/hotpotqa_model.py): the product's Answerer with a ScriptedBackend
(the only fake) and the real packaged embedder, scored on the direct answer after verification."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.index.embedding import Embedder
from assistant.types import Answer, Passage
from evals.datasets import HotpotQuestion
from evals.suites import SAMPLE_ENV, sample_slice
from evals.suites.hotpotqa_model import answer_metrics, direct_answer, draft_value, model_answerer
from tests.fakes import ScriptedBackend

PASSAGES = {
    "Lake Varn": "Lake Varn\nLake Varn is a reservoir in the north of Eskland. It was filled in 1931 after the "
                 "Varn dam was completed.",
    "Varn dam": "Varn dam\nThe Varn dam was designed by the engineer Ilse Marrow. It is 48 metres high.",
    "Eskland": "Eskland\nEskland is a coastal region known for its fishing harbours and its wool trade.",
}


def question(qid: str, text: str, answer: str, titles: tuple[str, ...]) -> HotpotQuestion:
    return HotpotQuestion(qid=qid, question=text, answer=answer, supporting_titles=titles,
                          supporting_facts=tuple((t, 0) for t in titles))


def passages() -> list[Passage]:
    return [Passage(chunk_id=t, case="hotpotqa", source=t, locator="", text=x, score=0.0, rank=i)
            for i, (t, x) in enumerate(PASSAGES.items(), 1)]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


def test_direct_answers_removed_claims_and_fallback_are_scored(embedder: Embedder) -> None:
    questions = [
        question("q1", "Who designed the dam that holds Lake Varn?", "Ilse Marrow", ("Lake Varn", "Varn dam")),
        question("q2", "How high is the Varn dam?", "48 metres", ("Varn dam",)),
        question("q3", "In which year was Lake Varn filled?", "1931", ("Lake Varn",)),
    ]
    backend = ScriptedBackend([
        # a bare value, expanded by the answerer and verified, then a supporting claim
        "Ilse Marrow [2]\nThe Varn dam was designed by the engineer Ilse Marrow [2].",
        # the direct answer holds, a second claim is invented and removed
        "48 metres [2]\nThe Varn dam was opened by the king of Eskland in 1950 [3].",
        # nothing verifiable: the extractive answer is shown instead
        "The lake was drained in 1977 [1].",
    ], model="scripted-hotpot")
    fn = model_answerer(load_settings(), embedder, backend)
    result = answer_metrics(questions, lambda q: passages(), fn, progress=False)
    rows = {r["qid"]: r for r in result["per_question"]}
    assert len(backend.prompts) == 3  # every question reached the model through the real prompt
    assert rows["q1"]["direct"] == "Ilse Marrow" and rows["q1"]["em"] == 1.0 and rows["q1"]["removed"] == 0
    assert rows["q2"]["direct"] == "48 metres" and rows["q2"]["removed"] == 1 and not rows["q2"]["fallback"]
    assert rows["q3"]["fallback"] and rows["q3"]["status"] == "answered" and "1931" in rows["q3"]["direct"]
    assert rows["q3"]["em"] == 0.0  # a whole extractive sentence is not the short answer
    assert result["n"] == 3 and result["em"] == pytest.approx(2 / 3)
    assert result["share_removed_claim"] == pytest.approx(2 / 3)  # q2's invented claim, q3's removed draft
    assert result["share_fallback_extractive"] == pytest.approx(1 / 3)
    assert result["citation_precision"] == 1.0 and result["refused"] == 0 and result["errors"] == 0


def test_refused_answers_score_as_empty_and_failures_do_not_stop_the_batch(embedder: Embedder) -> None:
    questions = [question("q1", "What colour was the bishop's carriage at the 1802 coronation?", "red", ("Eskland",)),
                 question("q2", "How high is the Varn dam?", "48 metres", ("Varn dam",))]
    backend = ScriptedBackend(["48 metres [2]"])
    fn = model_answerer(load_settings(), embedder, backend)

    def flaky(text: str, given: list[Passage]) -> tuple[Answer, str, float]:
        if "carriage" in text:
            raise RuntimeError("boom")
        return fn(text, given)

    result = answer_metrics(questions, lambda q: passages(), flaky, progress=False)
    assert result["errors"] == 1 and result["f1"] == pytest.approx(0.5)
    refused = Answer(question="q", case="hotpotqa", status="no_evidence", answer="Not found", backend="fake")
    assert direct_answer(refused, "48 metres [2]") == ""


def test_draft_value_and_direct_answer_parsing() -> None:
    assert draft_value("\n**Answer:** Ilse Marrow [2][1].\nmore [1]") == "Ilse Marrow"
    shown = Answer(question="q", case="c", status="answered", backend="fake",
                   answer="Ilse Marrow: The Varn dam was designed by the engineer Ilse Marrow. [2]\nOther [1].")
    assert direct_answer(shown, "Ilse Marrow [2]") == "Ilse Marrow"
    assert direct_answer(shown, "Someone else [2]") == ("Ilse Marrow: The Varn dam was designed by the engineer "
                                                        "Ilse Marrow")


def test_sample_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SAMPLE_ENV, "2:4")
    assert sample_slice(list(range(10))) == ([2, 3], "2:4")
    monkeypatch.setenv(SAMPLE_ENV, "4:2")
    with pytest.raises(ValueError, match="START < STOP"):
        sample_slice([1])
    monkeypatch.delenv(SAMPLE_ENV)
    assert sample_slice([1, 2]) == ([1, 2], "0:2") and SAMPLE_ENV not in os.environ
