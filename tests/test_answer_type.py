"""Expected-answer-type inference and the per-sentence gate, on hand-built passages with real Entity spans."""

from __future__ import annotations

import json

import pytest

from assistant.answer.answer_type import satisfies
from assistant.answer.expectation import AnswerType, Expectation, expected_type
from assistant.types import Entity, Passage

T = AnswerType


@pytest.mark.parametrize(("question", "types"), [
    ("What passcode was used to unlock the Samsung phone HE/3?", {T.CODE}),
    ("What is Andrei Popescu's passport number?", {T.CODE}),
    ("What is the name of Kacper's father?", {T.NAME}),
    ("What is the name of the solicitor who advised Marek Wolski in custody?", {T.NAME}),
    ("Who is the tenant of Flat 3, 27 Wrenfield Road?", {T.PERSON}),
    ("Which officer arrested WOLSKI?", {T.PERSON}),
    ("When was the case closed, and by whom?", {T.DATE, T.PERSON}),
    ("When and where was Marek Wolski arrested?", {T.DATE, T.PLACE}),
    ("What is Kacper Zielinski's date of birth?", {T.DATE}),
    ("What time did the van arrive?", {T.DATE}),
    ("How much cash was found in the glovebox of the Corsa?", {T.NUMBER}),
    ("How many wraps were found?", {T.NUMBER}),
    ("What did Samir offer Marek in January, and for how much?", {T.NUMBER}),
    ("What number was on the phone Marek Wolski gave to the boy?", {T.PHONE}),
    ("What is Tom's mobile number?", {T.PHONE}),
    ("What registration was the silver Vauxhall Corsa?", {T.REGISTRATION}),
    ("What car does Imran Qureshi drive, and what is its registration?", {T.VEHICLE, T.REGISTRATION}),
    ("What e-mail address is Marek Wolski believed to use?", {T.EMAIL}),
    ("What is his Snapchat handle?", {T.HANDLE}),
    ("Where was the key to the Dunford flat left?", {T.PLACE}),
])
def test_expected_type(question: str, types: set[AnswerType]) -> None:
    assert expected_type(question).types == types


@pytest.mark.parametrize("question", [
    "Why was the case closed?",
    "What bail conditions was Marek Wolski given?",
    "What did Marek Wolski say when he was cautioned?",  # "when" inside the question is not what is asked
    "What did other pupils tell the school about who Kacper was working for?",
    "What happened on the day of the arrest?",
    "What is Marek Wolski's blood type?",
    "Who is Graham TULLY?",  # asks for a description, not a name
    "Who was using the phone number 07700900418?",  # lookup: the identifier is given
    "Whose landline is 01632 960123?",
    "Who uses the Snapchat handle @w0lfie_94?",
    "Which vehicle has the registration KM68 WRV and who drives it?",
    "What is the name of the pub on Dock Street?",  # a name, but not a person's
    "How long was he in custody?",
])
def test_no_gate_when_unclear_or_given(question: str) -> None:
    expect = expected_type(question)
    assert not expect and expect.types == frozenset()


def test_code_question_keeps_its_nouns() -> None:
    assert "passcode" in expected_type("What PIN unlocked the Nokia?").code_nouns
    assert expected_type("What is the IMEI of the Samsung phone seized as HE/3?").code_nouns == ("imei",)


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


FATHER = "Kacper's father lives in Poland and has had no contact with Kacper for many years."
FATHER_NAMED = "Kacper's father, Tomasz NOWAK, lives in Poland."
NAME_Q = "What is the name of Kacper's father?"


def test_name_needs_a_person_not_in_the_question() -> None:
    bare = _passage(FATHER, ("PERSON", "Kacper"), ("LOCATION", "Poland"), ("DATE_TIME", "many years"))
    assert not _ok(NAME_Q, bare, FATHER)
    named = _passage(FATHER_NAMED, ("PERSON", "Kacper"), ("PERSON", "Tomasz NOWAK"), ("LOCATION", "Poland"))
    assert _ok(NAME_Q, named, FATHER_NAMED)
    called = _passage("Kacper said his father is called Tomasz.", ("PERSON", "Kacper"))
    assert _ok(NAME_Q, called, called.text)  # no PERSON entity, but "called <Capitalised>"


def test_passcode_needs_the_noun_near_new_digits() -> None:
    q = "What passcode was used to unlock the Samsung phone HE/3?"
    download = "The phone download of exhibit HE/3 (WOLSKI's Samsung) was completed on 04/04/2023."
    p = _passage(download, ("DATE_TIME", "04/04/2023"))
    assert not _ok(q, p, download)  # digits, but no passcode
    told = "WOLSKI refused to give the passcode for the Samsung."
    assert not _ok(q, _passage(told), told)  # the noun, but no digits
    given = "The Samsung was unlocked with passcode 4471 supplied by WOLSKI."
    assert _ok(q, _passage(given), given)
    sort_code = "Sort code: 30-94-57 was on the screenshot of HE/3."
    assert not _ok(q, _passage(sort_code, ("UK_SORT_CODE", "30-94-57")), sort_code)


def test_person_accepts_entity_sender_first_person_and_pronoun_context() -> None:
    q = "Who interpreted for Marek Wolski at his interview?"
    vague = "WOLSKI was interviewed with a Polish interpreter and answered no comment."
    assert not _ok(q, _passage(vague, ("NRP", "Polish")), vague)
    named = "Polish interpreter Ewa MAZUR arrived."
    assert _ok(q, _passage(named, ("PERSON", "Ewa MAZUR")), named)
    self_named = "Marek WOLSKI was interviewed at 10:50."
    assert not _ok(q, _passage(self_named, ("PERSON", "Marek WOLSKI")), self_named)  # only the asked-about man

    two = "Ewa MAZUR attended the custody suite. She interpreted for WOLSKI throughout."
    p = _passage(two, ("PERSON", "Ewa MAZUR"))
    second = "She interpreted for WOLSKI throughout."
    assert _ok(q, p, second, context="Ewa MAZUR attended")
    assert not _ok(q, p, second)  # without its context the pronoun names no one

    statement = "I interpreted for the detained man throughout his interview."
    assert _ok(q, _passage(statement), statement)  # the statement's writer
    assert not _ok("What is the name of the interpreter?", _passage(statement), statement)


def test_message_prefix_counts_for_who_and_when_but_not_numbers() -> None:
    body = "you owe me now, bring it tonight"
    line = f"[2023-03-14T19:02:45+00:00] Marek → Kacper: {body}"
    spans = [{"message_id": "m1", "start": line.index(body), "end": len(line)}]
    meta: dict[str, str | int | float | bool] = {"messages": json.dumps(spans)}
    p = Passage("m", "k", "messages/he3.csv", "thread 1", line, 0.8, 1, kind="messages", meta=meta)
    assert _ok("Who told Kacper to bring it?", p, body, context="[2023")
    assert _ok("When did Marek ask for the money?", p, body, context="[2023")
    assert not _ok("How much did Kacper owe Marek?", p, body, context="[2023")  # the timestamp is not an amount


@pytest.mark.parametrize(("question", "sentence", "entities", "expected"), [
    ("When was Kacper referred to the NRM?", "Kacper was referred to the NRM on 23/03/2023.",
     [("DATE_TIME", "23/03/2023")], True),
    ("When was Kacper referred to the NRM on 23/03/2023?", "Kacper was referred to the NRM on 23/03/2023.",
     [("DATE_TIME", "23/03/2023")], False),  # the only date is the one in the question
    ("How much cash was found?", "The fare is sixty pounds.", [], True),
    ("How much cash was found?", "Cash was found in the glovebox.", [], False),
    ("What number was on the phone he gave the boy?", "He gave the boy a phone with the number 07700 900265.",
     [("PHONE_NUMBER", "07700 900265")], True),
    ("What number was on the phone he gave the boy?", "He gave the boy a phone.", [], False),
    ("What is the registration of the car Samir Haddad drives?", "Samir HADDAD drives a car.",
     [("PERSON", "Samir HADDAD")], False),
    ("What registration was the silver Vauxhall Corsa?", "A silver Vauxhall Corsa, registration LK19 XRT.",
     [("UK_VEHICLE_REGISTRATION", "LK19 XRT")], True),
    ("What e-mail address does he use?", "He uses m.wolski94@example.com.",
     [("EMAIL_ADDRESS", "m.wolski94@example.com")], True),
    ("What e-mail address does he use?", "He uses e-mail a lot.", [], False),
    ("Where was Kacper found?", "Kacper was found at a flat at 27 Wrenfield Road in Dunford.",
     [("UK_ADDRESS", "27 Wrenfield Road"), ("LOCATION", "Dunford")], True),
    ("Where was Kacper found?", "Kacper was found.", [], False),
])
def test_gate_with_and_without_matching_value(question: str, sentence: str, entities: list[tuple[str, str]],
                                              expected: bool) -> None:
    assert _ok(question, _passage(sentence, *entities), sentence) is expected


def test_untagged_passage_skips_ner_types_but_not_formal_ones() -> None:
    text = "Kacper's father lives in Poland."
    assert satisfies(expected_type(NAME_Q), NAME_Q, text, 0, len(text), (), tagged=False)
    q = "What passcode unlocked the phone?"
    assert not satisfies(expected_type(q), q, text, 0, len(text), (), tagged=False)


def test_no_expectation_passes_everything() -> None:
    assert satisfies(Expectation(), "Why?", "Anything at all.", 0, 16, ())
