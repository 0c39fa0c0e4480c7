"""Expected-answer-type inference and the per-sentence gate, on hand-built passages with real Entity spans."""

from __future__ import annotations

import json

import pytest

from assistant.answer.answer_type import satisfies
from assistant.answer.expectation import AnswerType, Expectation, expected_type
from assistant.types import Entity, Passage

T = AnswerType


@pytest.mark.parametrize(("question", "types"), [
    ("What passcode was used to unlock the tablet seized as exhibit RB/2?", {T.CODE}),
    ("What is Lena Varga's passport number?", {T.CODE}),
    ("What is the name of Oliver's stepfather?", {T.NAME}),
    ("What is the name of the doctor who examined Jon Baker at the hospital?", {T.NAME}),
    ("Who is the tenant of Flat 2, 14 Mill Court?", {T.PERSON}),
    ("Which officer searched the shed?", {T.PERSON}),
    ("When was the report filed, and by whom?", {T.DATE, T.PERSON}),
    ("When and where was the bicycle stolen?", {T.DATE, T.PLACE}),
    ("What is Nadia Rahman's date of birth?", {T.DATE}),
    ("What time did the van arrive?", {T.DATE}),
    ("How much money was in the envelope under the mattress?", {T.NUMBER}),
    ("How many laptops were recovered?", {T.NUMBER}),
    ("What did the seller offer Dev in May, and for how much?", {T.NUMBER}),
    ("What number was on the phone the landlord gave to the tenant?", {T.PHONE}),
    ("What is Tom's mobile number?", {T.PHONE}),
    ("What registration was the red Toyota Yaris?", {T.REGISTRATION}),
    ("What car does Paula Green drive, and what is its registration?", {T.VEHICLE, T.REGISTRATION}),
    ("What e-mail address is the treasurer believed to use?", {T.EMAIL}),
    ("What is his Snapchat handle?", {T.HANDLE}),
    ("Where was the key to the garage left?", {T.PLACE}),
])
def test_expected_type(question: str, types: set[AnswerType]) -> None:
    assert expected_type(question).types == types


@pytest.mark.parametrize("question", [
    "Why was the case closed?",
    "What bail conditions was the driver given?",
    "What did the cyclist say when he was stopped?",  # "when" inside the question is not what is asked
    "What did the neighbours tell the council about who Rosa was working for?",
    "What happened on the day of the arrest?",
    "What is Jon Baker's blood type?",
    "Who is Martin HALE?",  # asks for a description, not a name
    "Who was using the phone number 07700900112?",  # lookup: the identifier is given
    "Whose landline is 01632 960123?",
    "Who uses the Snapchat handle @blue_fox_88?",
    "Which vehicle has the registration BD51 SMR and who drives it?",
    "What is the name of the pub on Dock Street?",  # a name, but not a person's
    "How long was he in hospital?",
])
def test_no_gate_when_unclear_or_given(question: str) -> None:
    expect = expected_type(question)
    assert not expect and expect.types == frozenset()


def test_code_question_keeps_its_nouns() -> None:
    assert "passcode" in expected_type("What PIN unlocked the tablet?").code_nouns
    assert expected_type("What is the IMEI of the phone seized as RB/1?").code_nouns == ("imei",)


# ---------------------------------------------------------------- the gate on real passages

def _entity(text: str, kind: str, value: str, nth: int = 0) -> Entity:
    at = -1
    for _ in range(nth + 1):
        at = text.index(value, at + 1)
    return Entity(kind, at, at + len(value), value, 0.85)


def _passage(text: str, *entities: tuple[str, str], kind: str = "text") -> Passage:
    ents = tuple(_entity(text, t, v) for t, v in entities)
    return Passage("c1", "k", "statements/s.txt", "p. 1", text, 0.9, 1, kind=kind, entities=ents)


def _ok(question: str, passage: Passage, sentence: str, *, context: str = "") -> bool:
    start = passage.text.index(sentence)
    ctx = passage.text.index(context) if context else None
    return satisfies(expected_type(question), question, passage.text, start, start + len(sentence),
                     passage.entities, context_start=ctx, message=passage.kind == "messages")


FATHER = "Oliver's stepfather lives in Spain and has had no contact with Oliver for many years."
FATHER_NAMED = "Oliver's stepfather, Daniel ROSS, lives in Spain."
NAME_Q = "What is the name of Oliver's stepfather?"


def test_name_needs_a_person_not_in_the_question() -> None:
    bare = _passage(FATHER, ("PERSON", "Oliver"), ("LOCATION", "Spain"), ("DATE_TIME", "many years"))
    assert not _ok(NAME_Q, bare, FATHER)
    named = _passage(FATHER_NAMED, ("PERSON", "Oliver"), ("PERSON", "Daniel ROSS"), ("LOCATION", "Spain"))
    assert _ok(NAME_Q, named, FATHER_NAMED)
    called = _passage("Oliver said his stepfather is called Daniel.", ("PERSON", "Oliver"))
    assert _ok(NAME_Q, called, called.text)  # no PERSON entity, but "called <Capitalised>"


def test_passcode_needs_the_noun_near_new_digits() -> None:
    q = "What passcode was used to unlock the tablet RB/2?"
    download = "The extraction of exhibit RB/2 (HALE's tablet) was completed on 04/04/2023."
    p = _passage(download, ("DATE_TIME", "04/04/2023"))
    assert not _ok(q, p, download)  # digits, but no passcode
    told = "HALE refused to give the passcode for the tablet."
    assert not _ok(q, _passage(told), told)  # the noun, but no digits
    given = "The tablet was unlocked with passcode 4471 supplied by HALE."
    assert _ok(q, _passage(given), given)
    sort_code = "Sort code: 30-94-57 was on the screenshot of RB/2."
    assert not _ok(q, _passage(sort_code, ("UK_SORT_CODE", "30-94-57")), sort_code)


def test_person_accepts_entity_sender_first_person_and_pronoun_context() -> None:
    q = "Who interpreted for Lena Varga at her interview?"
    vague = "VARGA was interviewed with a Hungarian interpreter and answered no comment."
    assert not _ok(q, _passage(vague, ("NRP", "Hungarian")), vague)
    named = "Hungarian interpreter Adam KOVACS arrived."
    assert _ok(q, _passage(named, ("PERSON", "Adam KOVACS")), named)
    self_named = "Lena VARGA was interviewed at 10:50."
    assert not _ok(q, _passage(self_named, ("PERSON", "Lena VARGA")), self_named)  # only the asked-about woman

    two = "Adam KOVACS attended the custody suite. He interpreted for VARGA throughout."
    p = _passage(two, ("PERSON", "Adam KOVACS"))
    second = "He interpreted for VARGA throughout."
    assert _ok(q, p, second, context="Adam KOVACS attended")
    assert not _ok(q, p, second)  # without its context the pronoun names no one

    statement = "I interpreted for the detained man throughout his interview."
    assert _ok(q, _passage(statement), statement)  # the statement's writer
    assert not _ok("What is the name of the interpreter?", _passage(statement), statement)


def test_message_prefix_counts_for_who_and_when_but_not_numbers() -> None:
    body = "you owe me now, bring it tonight"
    line = f"[2023-03-14T19:02:45+00:00] Rob → Sam: {body}"
    spans = [{"message_id": "m1", "start": line.index(body), "end": len(line)}]
    meta: dict[str, str | int | float | bool] = {"messages": json.dumps(spans)}
    p = Passage("m", "k", "messages/phone.csv", "thread 1", line, 0.8, 1, kind="messages", meta=meta)
    assert _ok("Who told Sam to bring it?", p, body, context="[2023")
    assert _ok("When did Rob ask for the money?", p, body, context="[2023")
    assert not _ok("How much did Sam owe Rob?", p, body, context="[2023")  # the timestamp is not an amount


@pytest.mark.parametrize(("question", "sentence", "entities", "expected"), [
    ("When was Oliver referred to the clinic?", "Oliver was referred to the clinic on 23/03/2023.",
     [("DATE_TIME", "23/03/2023")], True),
    ("When was Oliver referred to the clinic on 23/03/2023?", "Oliver was referred to the clinic on 23/03/2023.",
     [("DATE_TIME", "23/03/2023")], False),  # the only date is the one in the question
    ("How much cash was found?", "The fare is sixty pounds.", [], True),
    ("How much cash was found?", "Cash was found in the glovebox.", [], False),
    ("What number was on the phone he gave his nephew?", "He gave his nephew a phone with the number 07700 900331.",
     [("PHONE_NUMBER", "07700 900331")], True),
    ("What number was on the phone he gave his nephew?", "He gave his nephew a phone.", [], False),
    ("What is the registration of the car Paula Green drives?", "Paula GREEN drives a car.",
     [("PERSON", "Paula GREEN")], False),
    ("What registration was the red Toyota Yaris?", "A red Toyota Yaris, registration BD51 SMR.",
     [("UK_VEHICLE_REGISTRATION", "BD51 SMR")], True),
    ("What e-mail address does he use?", "He uses treasurer.club@example.com.",
     [("EMAIL_ADDRESS", "treasurer.club@example.com")], True),
    ("What e-mail address does he use?", "He uses e-mail a lot.", [], False),
    ("Where was Oliver found?", "Oliver was found at a flat at 14 Mill Court in Hensley.",
     [("UK_ADDRESS", "14 Mill Court"), ("LOCATION", "Hensley")], True),
    ("Where was Oliver found?", "Oliver was found.", [], False),
])
def test_gate_with_and_without_matching_value(question: str, sentence: str, entities: list[tuple[str, str]],
                                              expected: bool) -> None:
    assert _ok(question, _passage(sentence, *entities), sentence) is expected


def test_untagged_passage_skips_ner_types_but_not_formal_ones() -> None:
    text = "Oliver's stepfather lives in Spain."
    assert satisfies(expected_type(NAME_Q), NAME_Q, text, 0, len(text), (), tagged=False)
    q = "What passcode unlocked the phone?"
    assert not satisfies(expected_type(q), q, text, 0, len(text), (), tagged=False)


def test_no_expectation_passes_everything() -> None:
    assert satisfies(Expectation(), "Why?", "Anything at all.", 0, 16, ())
