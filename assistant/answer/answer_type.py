"""Expected-answer-type gate: a sentence can only answer a question if it holds the kind of thing asked for
(`assistant.answer.expectation.expected_type` says which kind).

`satisfies` checks one sentence: it must contain a value of an expected type that the question does not already
contain, taken from the passage's stored PII entities (offsets into the passage text) plus light regexes (digits,
number words, money, times, dates, registrations, e-mails, handles, capitalised words after "called|named").
Code-like nouns (passcode, PIN, password, passport/account number, IMEI) also need that noun close to the digits.
PERSON ("who") also accepts a message's sender/recipient, a first-person writer ("I arrested him") and, for a
sentence saying "he/she/they", a name in the previous sentence; NAME ("what is the name of") accepts only a new
name. PERSON, NAME, DATE, PLACE and VEHICLE rely on the PII tagger, so on passages that never went through it
(e.g. ClapNQ) they are not checked.
The gate is deliberately permissive within a type (any new number satisfies NUMBER): it exists to stop a
topically close sentence that holds nothing of the asked kind, not to judge which value is right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.answer.expectation import NER_TYPES, AnswerType, Expectation
from assistant.text.identifiers import extract_identifiers
from assistant.text.lexicon import MONTHS, STOPWORDS, WEEKDAYS, words
from assistant.text.phone import digits, uk_national
from assistant.types import Entity

# ---------------------------------------------------------------- checking a sentence

_TITLES = frozenset("mr mrs ms miss dr prof sgt pc dc ds di dci dsu insp supt det cst sir".split())
_NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
    thousand million billion dozen half quid""".split())
_TIME_WORDS = frozenset(WEEKDAYS) | frozenset(MONTHS) | frozenset("""today tonight yesterday tomorrow morning
    afternoon evening night midnight noon midday weekend week month year years months weeks days o'clock am pm
    century centuries decade decades""".split())
_DIGITS = re.compile(r"[£$€]?\d[\d,.:/-]*")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b|\b(?:1\d|20)\d\d\b|\b\d{2,4}s\b", re.IGNORECASE)
_CALLED = re.compile(r"\b(?:called|named|name is|name was|name's|known as)\s+[\"'“‘]?([A-Z][\w'’-]+)")
_PLACE_PREP = re.compile(r"\b(?:at|in|on|behind|under|near|outside|inside|opposite|beside|next to|into|to|from|"
                         r"towards|round|around|by)\s+(?:(?:the|a|an|his|her|their|my|our|your)\s+)?([\w'’-]+)",
                         re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers|they|them|their)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:I|we|We|me|my|My|us|our|Our)\b")
_PLACE_ENTITIES = frozenset({"LOCATION", "UK_ADDRESS", "UK_POSTCODE", "GPE", "ADDRESS"})
_NEAR = 40  # characters between a code noun and its digits


def _tokens(text: str) -> set[str]:
    out: set[str] = set()
    for w in words(text):
        low = w.lower()
        out.add(low[:-2] if low.endswith("'s") else low)
    return out


@dataclass(frozen=True)
class _Question:
    low: str
    squashed: str  # lower-case, alphanumerics only
    tokens: frozenset[str]
    digit_groups: frozenset[str]
    phones: frozenset[str]


@lru_cache(maxsize=64)
def _question_facts(question: str) -> _Question:
    low = question.lower()
    groups = {digits(m.group(0)) for m in _DIGITS.finditer(question)}
    ids = extract_identifiers(question)
    phones = {n for n in ids.numbers if len(n) >= 9} | {uk_national(m.group(0)) for m in _DIGITS.finditer(question)}
    return _Question(low, re.sub(r"[\W_]+", "", low), frozenset(_tokens(question)),
                     frozenset(g for g in groups if g), frozenset(phones))


def _new_text(value: str, q: _Question) -> bool:
    squashed = re.sub(r"[\W_]+", "", value.lower())
    return bool(squashed) and squashed not in q.squashed


def _new_person(value: str, q: _Question) -> bool:
    """A name is new when its first non-title word is not in the question ("Kacper ZIELINSKI" is not new for a
    question about Kacper; "Piotr WOLSKI" is new for one about Marek Wolski)."""
    names = [w for w in words(value) if w.lower() not in _TITLES and len(w) >= 2]
    if not names:
        return False
    first = names[0].lower()
    first = first[:-2] if first.endswith("'s") else first
    return first not in q.tokens and first not in STOPWORDS


def _person(span: str, ents: Sequence[Entity], q: _Question, *, speaker: str, strict: bool) -> bool:
    """A PERSON entity, a message's sender/recipient or a capitalised word after "called|named" that the question
    does not hold; unless `strict` (a name was asked for), a first-person writer ("I arrested WOLSKI") too."""
    if any(e.type == "PERSON" and _new_person(e.text, q) for e in ents):
        return True
    if any(_new_person(name, q) for name in re.split(r"\s*(?:→|->|,|&|\band\b)\s*", speaker) if name):
        return True
    if any(m.group(1).lower().rstrip("'’s") not in q.tokens for m in _CALLED.finditer(span)):
        return True
    return not strict and bool(_FIRST_PERSON.search(span))


def _number(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(digits(m.group(0)) not in q.digit_groups for m in _DIGITS.finditer(span)):
        return True
    return bool({t for t in _tokens(span) if t in _NUMBER_WORDS or t.rstrip("s") in _NUMBER_WORDS} - q.tokens)


def _code(span: str, q: _Question, nouns: Sequence[str]) -> bool:
    low = span.lower()
    digit_spans = [m.span() for m in _DIGITS.finditer(span) if digits(m.group(0)) not in q.digit_groups]
    for noun in nouns:
        pattern = r"(?<!sort )\bcode\b" if noun == "code" else rf"\b{re.escape(noun)}\b"
        for m in re.finditer(pattern, low):
            if any(s - m.end() <= _NEAR and m.start() - e <= _NEAR for s, e in digit_spans):
                return True
            after = low[m.end():m.end() + 12]
            if re.match(r"\s*(?:is|was|:)\s*[\"'“‘]\S", after):  # password was 'tiger'
                return True
    return False


def _date(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    q_dates = {(m, d) for _, m, d in extract_identifiers(q.low).dates}
    if any((m, d) not in q_dates for _, m, d in extract_identifiers(span).dates):
        return True
    if any(_new_text(m.group(0), q) for m in _TIME.finditer(span)):
        return True
    if (_tokens(span) & _TIME_WORDS) - q.tokens:
        return True
    return any(e.type == "DATE_TIME" and _new_text(e.text, q)
               and (any(ch.isdigit() for ch in e.text) or _tokens(e.text) & _TIME_WORDS) for e in ents)


def _phone(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(e.type == "PHONE_NUMBER" and uk_national(e.text) not in q.phones for e in ents):
        return True
    return any(len(key) >= 10 and key not in q.phones
               for key in (uk_national(m.group(0)) for m in re.finditer(r"\+?\(?\d[\d ()-]{8,}\d", span)))


def _registration(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(e.type == "UK_VEHICLE_REGISTRATION" and _new_text(e.text, q) for e in ents):
        return True
    return any(_new_text(r, q) for r in extract_identifiers(span).regs)


def _vehicle(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    # a registration, or a capitalised make/model word the question does not hold ("a silver Vauxhall Corsa")
    return _registration(span, ents, q) or bool(extract_identifiers(span).names - q.tokens)


def _email(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(e.type == "EMAIL_ADDRESS" and e.text.lower() not in q.low for e in ents):
        return True
    return any(x not in q.low for x in extract_identifiers(span).emails)


def _handle(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(e.type == "SOCIAL_HANDLE" and e.text.lower() not in q.low for e in ents):
        return True
    return any(x not in q.low for x in extract_identifiers(span).handles)


def _place(span: str, ents: Sequence[Entity], q: _Question) -> bool:
    if any(e.type in _PLACE_ENTITIES and _new_text(e.text, q) for e in ents):
        return True
    for m in _PLACE_PREP.finditer(span):
        word = m.group(1).lower()
        if word not in q.tokens and word not in STOPWORDS and word not in _TIME_WORDS and not word[:1].isdigit():
            return True
    return False


# Types whose check looks only at the sentence's own text and entities.
_VALUE_CHECKS: dict[AnswerType, Callable[[str, Sequence[Entity], _Question], bool]] = {
    AnswerType.NUMBER: _number,
    AnswerType.PHONE: _phone,
    AnswerType.REGISTRATION: _registration,
    AnswerType.VEHICLE: _vehicle,
    AnswerType.EMAIL: _email,
    AnswerType.HANDLE: _handle,
    AnswerType.PLACE: _place,
}


def satisfies(expect: Expectation, question: str, text: str, start: int, end: int, entities: Sequence[Entity],
              *, context_start: int | None = None, message: bool = False, tagged: bool = True) -> bool:
    """True when `text[start:end]` holds a value of one of `expect.types` that `question` does not.

    `entities` are the passage's PII spans (offsets into `text`). `tagged` says whether the passage went through
    the PII tagger; if not, types only it can see (NER_TYPES) cannot be checked and count as satisfied.
    `text[context_start:start]` is context: for a `message`, its "[timestamp] sender → recipient:" prefix, which
    counts for who and when; for prose, the previous sentence, which counts for who when the sentence refers back
    to someone ("he", "her", "they")."""
    if not expect:
        return True
    if not tagged and expect.types & NER_TYPES:
        return True
    q = _question_facts(question)
    span = text[start:end]
    inside = [e for e in entities if e.start < end and e.end > start]
    ctx = start if context_start is None else max(0, min(context_start, start))
    if not message and not _PRONOUN.search(span):
        ctx = start
    prefix = text[ctx:start]
    with_context = [e for e in entities if e.start < end and e.end > ctx]
    speaker_match = re.search(r"\]\s*([^:\[\]\n]{1,80}):\s*$", prefix) if message else None
    speaker = speaker_match.group(1).strip() if speaker_match else ""
    for kind in expect.types:
        if kind in (AnswerType.PERSON, AnswerType.NAME) and _person(
                span, with_context, q, speaker=speaker, strict=kind is AnswerType.NAME):
            return True
        if kind is AnswerType.DATE and (_date(span, inside, q) or (message and _date(prefix, with_context, q))):
            return True
        if kind is AnswerType.CODE and _code(span, q, expect.code_nouns):
            return True
        check = _VALUE_CHECKS.get(kind)
        if check is not None and check(span, inside, q):
            return True
    return False
