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
from assistant.ingest.chunking import chunk_document
from assistant.ingest.tokenizer import load_tokenizer
from assistant.pii.tagger import PiiTagger
from assistant.types import Answer, Document, Message, Passage

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
    tagger = PiiTagger(settings.pii)
    return [Passage(f"doc-{n}", "c", source, "lines 1-4", text, 0.9, n, entities=tuple(tagger.tag(text)),
                    meta={"entities_json": "[]"})
            for n, (source, text) in enumerate((("statement.txt", STATEMENT), ("record.txt", RECORD)), start=1)]


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
    messages = (Message("m1", "t1", "2024-05-01T10:00:00", "Lena", "the boat leaves from the north jetty at noon",
                        recipient="Tomas"),
                Message("m2", "t1", "2024-05-01T10:05:00", "Tomas", "ok see you there", recipient="Lena"))
    doc = Document(source="phone/chat.csv", kind="messages", text="", sha256="ab" * 32, messages=messages)
    chunk = chunk_document(doc, "c", load_tokenizer(), settings)[0]
    passage = Passage(chunk.chunk_id, "c", chunk.source, "thread t1", chunk.text, 0.9, 1, kind="messages",
                      meta=dict(chunk.meta))
    answer = answerer.answer("What did Tomas say about the boat?", "c", [passage])
    assert "north jetty" in _first_quote(answer)
    assert answer.answer.startswith("Sent by Lena to Tomas: the boat leaves")  # not Tomas's words
