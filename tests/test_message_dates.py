"""A message's timestamp date answers "on <date>" questions (issue 12): neutral text, the real scorer (lexical
part; no embedder), the real identifier reader."""

from __future__ import annotations

from assistant.answer.extractive import score_sentences
from assistant.answer.scoring.message_dates import with_dates_readable
from assistant.types import Passage

THREAD = ("[2024-05-02T09:15:00+00:00] Lena → Tom: the parcel is late again\n"
          "[2024-05-06T17:40:12+00:00] Lena → Tom: wait for me tonight under the old bridge by the canal\n"
          "[2024-05-09T08:02:33+00:00] Lena → Tom: bring the parcel tomorrow\n")


def _messages() -> Passage:
    return Passage(chunk_id="c1", case="t", source="chat.csv", locator="", text=THREAD, score=1.0, rank=1,
                   kind="messages")


def test_an_iso_timestamp_reads_as_a_date() -> None:
    assert with_dates_readable("[2024-05-06T17:40:12+00:00] x") == "[2024-05-06 17:40:12+00:00] x"
    assert with_dates_readable("build 2024-05-06Tx") == "build 2024-05-06Tx"  # no time after the T: left alone


def test_the_message_sent_on_the_asked_date_is_the_best_supported() -> None:
    # no word of the question is in that message: only its timestamp says it is the one asked about
    question = "Where did Lena tell Tom to meet her on 6 May?"
    scored = score_sentences(question, [_messages()], embedder=None)
    assert "under the old bridge" in scored[0].text
    assert scored[0].support > scored[1].support


def _bridge(question: str) -> tuple[float, float]:
    """(support, lexical) of the 6 May message for `question` (no embedder: support is lexical unless penalised)."""
    unit = next(s for s in score_sentences(question, [_messages()], embedder=None) if "old bridge" in s.text)
    return unit.support, unit.lexical


def test_a_message_of_another_date_keeps_the_focus_penalty() -> None:
    support, lexical = _bridge("Where did Lena tell Tom to meet her on 7 May?")
    assert support < lexical
    assert _bridge("Where did Lena tell Tom to meet her on 6 May?")[0] > support


def test_a_question_asking_for_no_kind_of_value_gets_no_exemption() -> None:
    # "what ... do" asks for no type, so no answer-type gate would check the message: its date alone does not do
    support, lexical = _bridge("What did Lena ask Tom to do on 6 May?")
    assert support < lexical
