"""The short-answer path names the right doer, place, date and sender: the model's answer (ScriptedBackend through
the real Backend interface) is attributed by the real Answerer, checked against the sentence that says who / where /
when the asked-for event happened (real Presidio tags, real spaCy parse, real packaged embedder, real verifier), and
a cited message says who sent it to whom (real message chunker). The "when" preference is checked on the extractive
path too. Tiny neutral documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import Answerer
from assistant.config import Settings, load_settings
from assistant.index.embedding import Embedder
from assistant.types import Answer, Passage
from tests.answer_docs import boat_chat_passage, tagged_passages
from tests.fakes import ScriptedBackend

REVIEW = ("Review note.\n\nOfficer in the case: DC 51 Lena Holt\n\nDC 51 Lena Holt was the officer in the case when "
          "the driver was arrested, and the driver was released on bail on 05/05/2024.\n")
RECORD = ("ARREST RECORD\n"
          "Detained person:     the driver of the grey van\n"
          "Arrested:            04/05/2024 09:15\n"
          "Place of arrest:     Car park behind Elm Street Library, Northfield\n"
          "Arresting officer:   PC 1042 Sarah Quinn\n"
          "Property:            One wallet, sealed.\n")


@pytest.fixture(scope="module")
def settings() -> Settings:
    s = load_settings()
    s.llm.answer_style = "short"  # type: ignore[assignment]
    return s


@pytest.fixture(scope="module")
def embedder(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(settings.embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


@pytest.fixture(scope="module")
def arrest(settings: Settings) -> list[Passage]:
    return tagged_passages(settings, (("review.md", REVIEW), ("record.txt", RECORD)), "lines 1-5")


def _ask(reply: str, question: str, passages: list[Passage], settings: Settings, embedder: Embedder) -> Answer:
    backend = ScriptedBackend([reply], model="small")
    return Answerer(settings, backend, embedder).answer(question, "c", passages)


def test_who_answer_from_a_sentence_naming_someone_else_is_read_from_the_doer_record(
        arrest: list[Passage], settings: Settings, embedder: Embedder) -> None:
    answer = _ask("DC 51 Lena Holt", "Who arrested the driver?", arrest, settings, embedder)
    assert answer.status == "answered" and answer.citations[0].verified
    assert "Sarah Quinn" in answer.citations[0].quote and "Sarah Quinn" in answer.answer
    assert "Lena Holt" not in answer.answer  # the officer in the case did not arrest anyone here
    assert any("“DC 51 Lena Holt”" in n and "does not say who" in n for n in answer.notes)
    assert "DC 51 Lena Holt" in answer.flagged_claims
    right = _ask("PC 1042 Sarah Quinn", "Who arrested the driver?", arrest, settings, embedder)  # kept as it is
    assert right.answer.startswith("PC 1042 Sarah Quinn: ") and "Sarah Quinn" in right.citations[0].quote
    assert right.flagged_claims == () and not any("does not say" in n for n in right.notes)


def test_when_answer_with_another_verbs_date_is_read_from_the_events_date(
        arrest: list[Passage], settings: Settings, embedder: Embedder) -> None:
    answer = _ask("05/05/2024", "When was the driver arrested?", arrest, settings, embedder)
    assert answer.status == "answered" and answer.answer.startswith("04/05/2024: Arrested: 04/05/2024 09:15 [1]")
    assert "05/05/2024" not in answer.answer  # the release's date
    assert any("“05/05/2024”" in n and "does not say when" in n for n in answer.notes)


def test_extractive_when_never_leads_with_another_verbs_date(
        arrest: list[Passage], settings: Settings, embedder: Embedder) -> None:
    answer = Answerer(settings, None, embedder).answer("When was the driver arrested?", "c", arrest)
    assert answer.status == "answered"
    assert not answer.answer.startswith("05/05/2024")  # the release's date, not the arrest's
    assert "04/05/2024" in answer.citations[0].quote


def test_short_answer_citing_a_message_says_who_sent_it_to_whom(settings: Settings, embedder: Embedder) -> None:
    passage = boat_chat_passage(settings)
    answer = _ask("the north jetty at noon", "What did Tomas say about the boat?", [passage], settings, embedder)
    assert answer.status == "answered" and answer.backend == "fake"
    assert answer.answer.startswith("the north jetty at noon: Sent by Lena to Tomas: the boat leaves")
