"""Value-leading extractive answers: the asked-for value, read from the cited sentence (real Presidio tagging, real
packaged embedder; neutral text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.extractive import extractive_answer
from assistant.answer.value_lead import leading_value
from assistant.config import AnswerSettings, EmbeddingSettings, PiiSettings
from assistant.index.embedding import Embedder
from assistant.pii.tagger import PiiTagger
from assistant.types import Passage

REPORT = ("The annual audit of the sailing club was carried out in March. "
          "The club accounts were checked by Mrs Helen Okafor, a retired bank manager. "
          "The club paid £480 for the new rescue boat. "
          "A blue van with registration KV19 TLN delivered the boat to the harbour.")


@pytest.fixture(scope="module")
def passage() -> Iterator[Passage]:
    entities = PiiTagger(PiiSettings()).tag(REPORT)
    yield Passage("doc-1", "c", "club/audit.txt", "p. 1", REPORT, 0.9, 1, entities=tuple(entities),
                  meta={"entities_json": "[]"})


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(EmbeddingSettings(), cache_dir=Path(tmp_path_factory.mktemp("emb")))


def _span(sentence_start: str) -> tuple[int, int]:
    start = REPORT.index(sentence_start)
    return start, REPORT.index(".", REPORT.index(" ", start + 30)) + 1


def test_leads_with_the_person_asked_for(passage: Passage) -> None:
    start, end = _span("The club accounts")
    assert leading_value("Who checked the accounts of the sailing club?", passage, start, end) == "Mrs Helen Okafor"


def test_leads_with_registration_and_amount(passage: Passage) -> None:
    start, end = _span("A blue van")
    assert leading_value("What registration did the van have?", passage, start, end) == "KV19 TLN"
    start, end = _span("The club paid")
    assert leading_value("How much did the club pay for the rescue boat?", passage, start, end) == "£480"


def test_no_lead_without_a_clear_type_or_a_new_value(passage: Passage) -> None:
    start, end = _span("The club accounts")
    assert leading_value("Why were the accounts checked?", passage, start, end) == ""
    # the only person in the sentence is the one the question names: nothing new to lead with
    assert leading_value("Who did Helen Okafor check the accounts for?", passage, start, end) == ""
    start, end = _span("The club paid")
    assert leading_value("Who paid £480 for the boat?", passage, start, end) == ""


def test_extractive_answer_leads_with_the_value_and_keeps_the_citation(passage: Passage, embedder: Embedder) -> None:
    answer = extractive_answer("Who checked the club accounts?", "c", [passage], embedder=embedder,
                               settings=AnswerSettings())
    assert answer.status == "answered"
    assert answer.answer.startswith("Mrs Helen Okafor — ")
    first = answer.citations[0]
    assert "Helen Okafor" in first.quote and first.verified
