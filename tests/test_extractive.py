"""The extractive answerer on a small set of real passages, with the real packaged embedder (ranking matters)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.extractive import extractive_answer, score_sentences, support_threshold
from assistant.config import AnswerSettings, EmbeddingSettings, SentenceScoring
from assistant.index.embedding import Embedder
from assistant.types import Entity, Passage

STATEMENT = (
    "Statement of DS Anil Patel, 4 May 2023.\n"
    "On 3 May 2023 at 14:30 I saw a white Ford Transit van, registration AB12 CDE, parked outside 14 Dock Road, "
    "Hull. The driver, Mark Ellison, was arrested at 14:45. Mr. Ellison gave his phone number as 07700 900418."
)
MESSAGES = [
    ("2023-05-02 21:10", "Ellison", "bring the van to the dock tomorrow at 2"),
    ("2023-05-02 21:12", "Reyes", "ok boss, 2 bags ready"),
    ("2023-05-02 21:15", "Ellison", "text me on 07700900418 when you get there"),
]
CUSTODY = ("Custody record for Mark Ellison. Ellison declined a solicitor. "
           "He was released on bail on 5 May 2023 pending further enquiries.")


def message_passage(chunk_id: str = "msg-1") -> Passage:
    text, meta = "", []
    for i, (ts, sender, body) in enumerate(MESSAGES):
        prefix = f"[{ts}] {sender}: "
        start = len(text) + len(prefix)
        text += prefix + body + "\n"
        meta.append({"message_id": f"m{i}", "start": start, "end": start + len(body)})
    return Passage(chunk_id, "k", "phone/ellison.csv", "thread 7", text.rstrip("\n"), 0.8, 2, kind="messages",
                   meta={"messages": json.dumps(meta)})


def case_passages() -> list[Passage]:
    return [Passage("stmt-1", "k", "statements/patel.txt", "p. 1", STATEMENT, 0.9, 1), message_passage(),
            Passage("cust-1", "k", "custody/ellison.txt", "p. 2", CUSTODY, 0.5, 3)]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(EmbeddingSettings(), cache_dir=Path(tmp_path_factory.mktemp("emb")))


SETTINGS = AnswerSettings()


def test_answers_with_verbatim_cited_sentence(embedder: Embedder) -> None:
    passages = case_passages()
    answer = extractive_answer("What time was Mark Ellison arrested?", "k", passages, embedder=embedder,
                               settings=SETTINGS)
    assert answer.status == "answered" and answer.backend == "extractive"
    first = answer.citations[0]
    assert first.quote == "The driver, Mark Ellison, was arrested at 14:45." and first.verified
    assert first.chunk_id == "stmt-1" and STATEMENT[first.quote_start:].startswith(first.quote)
    assert answer.answer.startswith("The driver, Mark Ellison, was arrested at 14:45 [1].")
    assert len(answer.citations) <= SETTINGS.max_sentences
    assert all(c.verified and c.quote in c.text for c in answer.citations)


def test_identifier_question_finds_message_digit_normalised(embedder: Embedder) -> None:
    answer = extractive_answer("Who used the number 07700 900418?", "k", case_passages(), embedder=embedder,
                               settings=SETTINGS)
    quotes = [c.quote for c in answer.citations]
    assert answer.status == "answered"
    assert "text me on 07700900418 when you get there" in quotes  # a message's own text, no sender prefix
    assert any("07700 900418" in q for q in quotes)


def test_refuses_when_nothing_is_relevant(embedder: Embedder) -> None:
    answer = extractive_answer("What was the weather like in Paris during the opera festival?", "k",
                               case_passages(), embedder=embedder, settings=SETTINGS)
    assert answer.status == "no_evidence" and answer.citations == ()
    assert answer.answer == "Not found in the case material (searched 3 passages in 3 sources)."


def test_scores_are_bounded_and_ranked(embedder: Embedder) -> None:
    scored = score_sentences("When was Ellison released on bail?", case_passages(), embedder=embedder)
    assert all(0.0 <= s.support <= 1.0 for s in scored)
    assert scored[0].text == "He was released on bail on 5 May 2023 pending further enquiries."
    assert [s.support for s in scored] == sorted((s.support for s in scored), reverse=True)


def test_max_sentences_limits_answer(embedder: Embedder) -> None:
    one = AnswerSettings(max_sentences=1, min_support=0.1)
    answer = extractive_answer("What happened to Mark Ellison?", "k", case_passages(), embedder=embedder,
                               settings=one)
    assert answer.status == "answered" and len(answer.citations) == 1 and answer.answer.count("[") == 1


DOWNLOAD = ("The phone download of exhibit HE/3 (WOLSKI's Samsung) was completed on 04/04/2023. "
            "Kacper's father lives in Poland and has had no contact with Kacper for many years. "
            "The interpreter for the interview was Ewa MAZUR.")


def tagged_passage() -> Passage:
    ents = []
    for kind, value in (("DATE_TIME", "04/04/2023"), ("PERSON", "Kacper"), ("LOCATION", "Poland"),
                        ("PERSON", "Ewa MAZUR")):
        at = DOWNLOAD.index(value)
        ents.append(Entity(kind, at, at + len(value), value, 0.85))
    return Passage("dl-1", "k", "reports/download.txt", "p. 1", DOWNLOAD, 0.9, 1, entities=tuple(ents),
                   meta={"entities_json": "[]"})


@pytest.mark.parametrize("question", ["What passcode was used to unlock the Samsung phone HE/3?",
                                      "What is the name of Kacper's father?"])
def test_answer_type_gate_refuses_on_topic_sentence_without_the_asked_value(embedder: Embedder,
                                                                             question: str) -> None:
    scored = {s.text[:20]: s.support for s in score_sentences(question, [tagged_passage()], embedder=embedder)}
    assert scored["The phone download o"] == 0.0 and scored["Kacper's father live"] == 0.0  # on topic, no value
    answer = extractive_answer(question, "k", [tagged_passage()], embedder=embedder, settings=SETTINGS)
    assert answer.status == "no_evidence" and answer.citations == ()


def test_answer_type_gate_keeps_the_sentence_holding_the_value(embedder: Embedder) -> None:
    answer = extractive_answer("Who was the interpreter for the interview?", "k", [tagged_passage()],
                               embedder=embedder, settings=SETTINGS)
    assert answer.status == "answered"
    assert answer.citations[0].quote == "The interpreter for the interview was Ewa MAZUR."


def test_identifier_questions_have_their_own_refusal_threshold() -> None:
    s = AnswerSettings(min_support=0.575, min_support_identifiers=0.55)
    assert support_threshold("Where was the key to the flat left?", s) == 0.575
    for q in ("Who uses 07700 900418?", "What happened on 21 January?", "Whose car is AB12 CDE?",
              "Who wrote to m.wolski@example.com?"):
        assert support_threshold(q, s) == 0.55, q


def test_a_sentence_among_on_topic_neighbours_scores_higher_than_among_unrelated_ones(
        embedder: Embedder) -> None:
    sentence = "He left it under the plant pot."
    on_topic = f"Ellison rented the flat on Dock Road. {sentence} The key opened the back door of the flat."
    off_topic = f"The weather was cold that week. {sentence} The match ended two goals to one."
    question = "Where was the key to the Dock Road flat left?"

    def dense(scoring: SentenceScoring) -> dict[str, float]:
        out = {}
        for name, text in (("on", on_topic), ("off", off_topic)):
            scored = score_sentences(question, [Passage(name, "k", f"{name}.txt", "p. 1", text, 0.5, 1)],
                                     embedder=embedder, scoring=scoring)
            out[name] = next(x.dense for x in scored if x.text == sentence)
        return out

    with_context = dense(SentenceScoring())
    assert with_context["on"] > with_context["off"] + 0.05
    alone = dense(SentenceScoring(window_share=0.0))  # the sentence alone: its neighbours no longer count
    assert alone["on"] == pytest.approx(alone["off"], abs=1e-6)


def test_lead_in_and_heading_are_quoted_with_the_unit_that_answers(embedder: Embedder) -> None:
    statement = Passage("st", "k", "statements/ellery.txt", "p. 2",
                        "At 21:07 I arrested Mark Ellison and cautioned him. When cautioned Ellison replied:\n"
                        "\"He's my cousin, I'm just giving him a lift.\"\nI then searched the car.", 0.9, 1)
    answer = extractive_answer("What did Mark Ellison reply when cautioned?", "k", [statement], embedder=embedder,
                               settings=AnswerSettings(max_sentences=1))
    assert answer.status == "answered"
    reply = "\"He's my cousin, I'm just giving him a lift.\""
    assert answer.citations[0].quote == "When cautioned Ellison replied:\n" + reply
    review = Passage("rv", "k", "reviews/note.md", "section 2", "## Why the case was closed\n\n"
                     "1. The boy declined to support a prosecution.\n\n## Next steps\n\nNone.", 0.9, 1, kind="text")
    answer = extractive_answer("Why was the case closed?", "k", [review], embedder=embedder,
                               settings=AnswerSettings(max_sentences=1))
    assert answer.status == "answered" and "declined to support a prosecution" in answer.citations[0].quote
    assert answer.citations[0].verified and not answer.answer.startswith("#")


def test_a_message_is_quoted_alone(embedder: Embedder) -> None:
    answer = extractive_answer("When should the van be brought to the dock?", "k", [message_passage()],
                               embedder=embedder, settings=AnswerSettings(max_sentences=1, min_support=0.1))
    assert answer.citations[0].quote == "bring the van to the dock tomorrow at 2"
