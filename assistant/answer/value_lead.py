"""The value a question asks for, read from the sentence that answers it, so an extractive answer can lead with it.

"Which solicitor attended the interview?" answered by "Solicitor present: Mr Ibrahim Farouk of Farouk and Pryce."
leads with "Mr Ibrahim Farouk". `expected_type` says what kind of value is asked for; the value is the first span of
that kind inside the cited sentence that the question does not already hold: a PII entity of the passage (person,
date/time, place, phone, e-mail, registration; offsets into the passage text, so only tagged passages) or, for
"how much / how many", a number or sum of money. Nothing is led with when the question asks for no clear type, when
it asks for several, or when the sentence holds no such value: the cited sentence alone is the answer then.
The value is a verbatim substring of the cited sentence, so the answer stays checkable against its citation.
For "when <event>" the date the parse places under the event's verb comes first, and a date that belongs to another
verb of the sentence is never led with ("When was he arrested?" on "He was arrested, and released on 23/03/2023."
leads with nothing: 23/03/2023 is the release's date; `assistant.answer.part_focus.event_dates`).
"""

from __future__ import annotations

import re

from assistant.answer.expectation import AnswerType, expected_type
from assistant.answer.part_focus import event_dates, sentence_entities
from assistant.text.lexicon import content_terms
from assistant.types import Passage

_ENTITY_TYPES: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON"}),
    AnswerType.NAME: frozenset({"PERSON"}),
    AnswerType.DATE: frozenset({"DATE_TIME"}),
    AnswerType.PLACE: frozenset({"LOCATION", "UK_ADDRESS", "UK_POSTCODE", "GPE", "ADDRESS"}),
    AnswerType.PHONE: frozenset({"PHONE_NUMBER"}),
    AnswerType.EMAIL: frozenset({"EMAIL_ADDRESS"}),
    AnswerType.REGISTRATION: frozenset({"UK_VEHICLE_REGISTRATION"}),
}
_AMOUNT = re.compile(r"[£$€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|bn|million|billion|thousand))?|\b\d[\d,]*(?:\.\d+)?\b")
_SPACE = re.compile(r"\s+")
_TITLES = frozenset(content_terms("mr mrs ms miss dr prof sir sgt pc dc ds di dci insp supt det cst"))


def _held_by_question(value: str, question: str) -> bool:
    squashed = re.sub(r"[\W_]+", "", value.lower())
    if not squashed or squashed in re.sub(r"[\W_]+", "", question.lower()):
        return True
    terms = set(content_terms(value)) - _TITLES  # "Mrs Helen Okafor" is held by a question naming Helen Okafor
    return bool(terms) and terms <= set(content_terms(question))


def leading_value(question: str, passage: Passage, start: int, end: int) -> str:
    """The value `question` asks for inside `passage.text[start:end]`, verbatim (whitespace folded), or ""."""
    expect = expected_type(question)
    if len(expect.types) != 1:
        return ""
    (kind,) = expect.types
    wanted = _ENTITY_TYPES.get(kind)
    candidates: list[tuple[int, str]] = []
    if wanted:
        candidates = [(e.start, passage.text[e.start:e.end]) for e in passage.entities
                      if e.type in wanted and start <= e.start and e.end <= end]
    elif kind is AnswerType.NUMBER:
        candidates = [(m.start(), m.group(0)) for m in _AMOUNT.finditer(passage.text, start, end)]
    if kind is AnswerType.DATE and candidates:
        governed = event_dates(question, passage.text[start:end], sentence_entities(passage, start, end))
        if governed is not None:  # only dates under the event's verb, in text order
            candidates = [(at, v) for at, v in candidates if any(s <= at - start < e for s, e in governed)]
    for _, value in sorted(candidates):
        value = _SPACE.sub(" ", value).strip(" ,.;:")
        if value and not _held_by_question(value, question):
            return value
    return ""
