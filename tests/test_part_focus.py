"""Extractive answers to "who" and "where" questions quote first the sentence naming the doer or the place, and an
answer quoting a message says who sent it (the real Answerer, real Presidio tagging, the real packaged embedder and
the real message chunker; tiny neutral documents)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import Answerer
from assistant.config import Settings, load_settings
from assistant.index.embedding import Embedder
from assistant.types import Answer, Passage
from tests.answer_docs import boat_chat_passage, tagged_passages

STATEMENT = ("Statement of the officer.\n\nAt 09:15 I arrested the driver on suspicion of theft of fuel. "
             "I cautioned him and he made no reply.\n")
RECORD = ("ARREST RECORD\n"
          "Arrested:            04/05/2024 09:15\n"
          "Place of arrest:     Car park behind Elm Street Library, Northfield\n"
          "Arresting officer:   PC 1042 Sarah Quinn\n"
          "Custody officer:     Sgt 77 Omar Reed\n"
          "Property:            One wallet, sealed.\n")


@pytest.fixture(scope="module")
def settings() -> Settings:
    s = load_settings()
    s.llm.backend = "extractive"
    return s


@pytest.fixture(scope="module")
def answerer(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Answerer]:
    embedder = Embedder(settings.embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))
    yield Answerer(settings, None, embedder)


@pytest.fixture(scope="module")
def arrest(settings: Settings) -> list[Passage]:
    return tagged_passages(settings, (("statement.txt", STATEMENT), ("record.txt", RECORD)), "lines 1-4")


def _first_quote(answer: Answer) -> str:
    assert answer.status == "answered" and answer.citations
    return answer.citations[0].quote


def test_who_quotes_the_record_naming_the_doer_first(answerer: Answerer, arrest: list[Passage]) -> None:
    answer = answerer.answer("Who arrested the driver?", "c", arrest)
    assert "Sarah Quinn" in _first_quote(answer)  # not the first-person "I arrested", which names nobody


def test_where_quotes_the_place_of_the_event_first(answerer: Answerer, arrest: list[Passage]) -> None:
    answer = answerer.answer("Where was the driver arrested?", "c", arrest)
    assert "Elm Street Library" in _first_quote(answer)


def test_quoted_message_says_its_sender(answerer: Answerer, settings: Settings) -> None:
    passage = boat_chat_passage(settings)
    answer = answerer.answer("What did Tomas say about the boat?", "c", [passage])
    assert "north jetty" in _first_quote(answer)
    assert answer.answer.startswith("Sent by Lena to Tomas: the boat leaves")  # not Tomas's words
