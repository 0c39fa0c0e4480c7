"""Presidio recognizers tuned for UK policing text.

Everything here is a pattern recognizer: deterministic, fast, and ranked above spaCy's NER when spans overlap (see
`assistant.pii.tagger`). `RegexRecognizer` is our own small recognizer class: each pattern carries its own regex
flags, an optional validator, and context words are checked deterministically in a window around the match (Presidio's
lemma-based enhancer is not used for these, so a context-gated identifier is either in or out, never borderline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    UkDrivingLicenceRecognizer,
    UkNinoRecognizer,
    UkPassportRecognizer,
)

from assistant.pii.names import LowercaseNameRecognizer
from assistant.pii.terms import POSTCODE_INWARD, POSTCODE_OUTWARD
from assistant.text.phone import digits, uk_national_number

# Recognizer names: `assistant.pii.tagger` ranks results of these above everything else when spans overlap.
OWN_RECOGNIZER_PREFIX = "Uk"

Validator = Callable[[str], bool]


@dataclass(frozen=True)
class Rx:
    """One regex of a recognizer. `group` selects the span (0 = whole match)."""

    regex: str
    score: float
    flags: int = 0
    group: int = 0
    validator: Validator | None = None
    context_required: bool = False


class RegexRecognizer(EntityRecognizer):  # type: ignore[misc]
    """A pattern recognizer with per-pattern flags, validators and deterministic context words.

    A context word found within `window` characters before the match (or a third of that after it) adds
    `context_boost` to the score; patterns marked `context_required` are dropped without one.
    """

    def __init__(self, entity: str, patterns: Sequence[Rx], *, context: Sequence[str] = (), window: int = 40,
                 context_boost: float = 0.2, name: str | None = None) -> None:
        self._rx = [(p, re.compile(p.regex, p.flags)) for p in patterns]
        self._context = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in context) + r")\b", re.IGNORECASE) \
            if context else None
        self._window = window
        self._boost = context_boost
        rec_name: str = name or f"Uk{entity.title().replace('_', '')}Recognizer"
        self._rec_name = rec_name
        super().__init__(supported_entities=[entity], name=rec_name, supported_language="en")

    def load(self) -> None:
        return None

    def has_context(self, text: str, start: int, end: int) -> bool:
        if self._context is None:
            return False
        before = text[max(0, start - self._window):start]
        cut = max(before.rfind(". "), before.rfind(";"), before.rfind("\n"))
        before = before[cut + 1:] if cut >= 0 else before  # context does not cross a sentence end
        after = text[end:end + self._window // 3]
        return bool(self._context.search(before) or self._context.search(after))

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return []
        results: list[RecognizerResult] = []
        taken: set[tuple[int, int]] = set()
        for rx, compiled in self._rx:
            for m in compiled.finditer(text):
                start, end = m.span(rx.group)
                if (start, end) in taken or start == end:
                    continue
                value = text[start:end]
                if rx.validator is not None and not rx.validator(value):
                    continue
                context = self.has_context(text, start, end)
                if rx.context_required and not context:
                    continue
                score = min(1.0, rx.score + (self._boost if context else 0.0))
                taken.add((start, end))
                results.append(RecognizerResult(
                    entity_type=entity, start=start, end=end, score=score,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self._rec_name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results


# ---------------------------------------------------------------- validators (pure, also used by normalisation)

def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_uk_phone(text: str) -> bool:
    return bool(uk_national_number(text))


def is_imei(text: str) -> bool:
    ds = digits(text)
    return len(ds) == 15 and luhn_ok(ds)


def is_imei_not_amex(text: str) -> bool:
    """15 Luhn-valid digits outside the 15-digit card ranges (Amex 34/37, JCB 1800/2131): those need IMEI context."""
    ds = digits(text)
    return is_imei(ds) and ds[:2] not in ("34", "37") and ds[:4] not in ("1800", "2131")


_STREET_STOPWORDS = frozenset(
    "the a an to of on in at and or for down up my your his her our their this that from into by with near off "
    "just then was is are be been me him them it we you i he she they round back".split())


def plausible_street(text: str) -> bool:
    """Reject 'walked 3 days down the road': street-name words must not be function words."""
    words = re.findall(r"[A-Za-z']+", text)
    return not any(w.lower() in _STREET_STOPWORDS for w in words[:-1])


# ---------------------------------------------------------------- patterns

_I = re.IGNORECASE
_SEP = r"(?:[ \-.]|\) ?|\r?\n)?"  # a line break inside a number happens where PDFs wrap
# UK numbers: +44 [ (0) ] or (0 or 0, then 9-10 digits with single spaces/dashes/dots or a closing bracket between.
PHONE_RX = Rx(r"(?<![\w+/.])(?:\+44[ -]?(?:\(0\)[ -]?)?|\(0|0)\d(?:" + _SEP + r"\d){8,9}(?![\w/]|[-.]\d)", 0.75,
              validator=is_uk_phone)
IMEI_RXS = [
    Rx(r"(?<![\d-])\d{15}(?![\d-])", 0.85, validator=is_imei_not_amex),
    Rx(r"(?<![\d-])\d{15}(?![\d-])", 0.75, validator=is_imei, context_required=True),
    Rx(r"(?<![\d-])\d{2}[ -]\d{6}[ -]\d{6}[ -]\d(?![\d-])", 0.85, validator=is_imei),
]
SORT_CODE_RXS = [
    Rx(r"(?<![\d-])(\d{2}-\d{2}-\d{2})[ ,/]+\d{8}(?![\d-])", 0.7, group=1),  # '12-34-56 12345678'
    Rx(r"(?<![\d-])\d{2}-\d{2}-\d{2}(?![\d-])", 0.6, context_required=True),
    Rx(r"(?<!\d)(?<!\d )\d{2} \d{2} \d{2}(?! ?\d)", 0.55, context_required=True),
    Rx(r"(?<![\w-])\d{6}(?![\w-])", 0.5, context_required=True),
]
ACCOUNT_RXS = [
    Rx(r"(?<![\d-])\d{2}-\d{2}-\d{2}[ ,/]+(\d{8})(?![\d-])", 0.7, group=1),
    Rx(r"(?<![\w-])\d{8}(?![\w-])", 0.5, context_required=True),
]
PNC_RX = Rx(r"(?<![\w/])(?:\d{2}|\d{4})/\d{5,7}[A-Z](?![\w/])", 0.8, flags=_I)
CRO_RXS = [
    Rx(r"(?<![\w/])\d{3,6}/\d{2}[A-Z](?![\w/])", 0.75, flags=_I),
    Rx(r"(?<![\w/])SF\d{2}/\d{3,6}[A-Z](?![\w/])", 0.85, flags=_I),
]
HANDLE_RXS = [
    Rx(r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?(?![\w@]|\.[A-Za-z])", 0.8),
    # 'add me on snap marek_99' / 'insta: k.ionut'  (the handle must hold a digit, '_' or '.' to be told from a word)
    Rx(r"\b(?:snap(?:chat)?|insta(?:gram)?|tiktok|telegram|kik|twitter|ig)\b:?\s+"
       r"((?=[\w.]*[\d_.])[A-Za-z][\w.]{2,29}[A-Za-z0-9_])", 0.7, flags=_I, group=1),
]
POSTCODE_RXS = [
    Rx(r"\b" + POSTCODE_OUTWARD + r" ?" + POSTCODE_INWARD + r"\b", 0.7),
    Rx(r"\b" + POSTCODE_OUTWARD + r" " + POSTCODE_INWARD + r"\b", 0.5, flags=_I),  # lower case: only with the space
]
_PLATE_AGE = r"(?:0[2-9]|[12][0-9]|5[1-9]|[67][0-9])"
VEHICLE_RXS = [
    Rx(r"\b[A-HJ-PR-Y]{2}" + _PLATE_AGE + r" ?[A-HJ-PR-Z]{3}\b", 0.75),
    Rx(r"\b[A-HJ-PR-Y]{2}" + _PLATE_AGE + r" ?[A-HJ-PR-Z]{3}\b", 0.55, flags=_I),
    Rx(r"\b[A-HJ-NPR-TV-Y][1-9]\d{0,2} ?[A-HJ-PR-Y][A-HJ-PR-Z]{2}\b", 0.5),  # prefix era, upper case only
    Rx(r"\b[A-HJ-PR-Z]{3} ?[1-9]\d{0,2} ?[A-HJ-NPR-TV-Y]\b", 0.4),  # suffix era, upper case only
]
_SUFFIXES = ("road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|court|ct|crescent|cres|gardens|grove|place|"
             "terrace|hill|park|row|square|walk|mews|rise|view|parade|green|croft|fold|gate|vale|wharf|yard|"
             "boulevard|approach|chase|end|grange")
ADDRESS_RX = Rx(
    r"(?<![\w/])(?i:(?:flat|apartment|unit)\s+\d{1,4}[a-z]?,?\s+)?\d{1,4}[A-Za-z]?,?\s+"
    r"(?i:(?:[a-z][a-z'\-]+\s+){1,3}(?:" + _SUFFIXES + r"))\b"
    r"(?:,?\s+(?!(?:on|at|in|and|the)\b)[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?)?"
    r"(?:,?\s+" + POSTCODE_OUTWARD + r" ?" + POSTCODE_INWARD + r"\b)?",
    0.7, validator=plausible_street)
ADDRESS_GATE_RX = Rx(r"(?<![\w/])\d{1,4}[A-Za-z]?,?\s+[A-Z][a-z]+gate\b(?:,?\s+[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?)?"
                     r"(?:,?\s+" + POSTCODE_OUTWARD + r" ?" + POSTCODE_INWARD + r"\b)?", 0.65)
ADDRESS_POSTCODE_RX = Rx(r"(?<![\w/])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){0,2}[A-Z][a-z]+,\s+[A-Z][a-z]+,?\s+"
                         + POSTCODE_OUTWARD + r" ?" + POSTCODE_INWARD + r"\b", 0.65)

PHONE_CONTEXT = ("phone", "mobile", "mob", "tel", "telephone", "number", "call", "called", "text", "texted",
                 "whatsapp", "ring", "contact", "sim", "handset")
IMEI_CONTEXT = ("imei", "handset", "device", "phone", "mobile", "serial")
SORT_CONTEXT = ("sort code", "sort", "s/c", "sortcode", "bank", "account", "acc", "a/c", "acct", "money", "pay",
                "paid")
ACCOUNT_CONTEXT = ("account", "acc", "a/c", "acct", "account number", "account no", "bank", "sort code", "s/c",
                   "paid into", "transfer", "transferred", "money", "pay", "paid")
VEHICLE_CONTEXT = ("vehicle", "registration", "reg", "vrm", "vrn", "plate", "plates", "car", "van", "dvla", "anpr",
                   "driving", "drove", "driven", "motorbike", "taxi")
POSTCODE_CONTEXT = ("postcode", "post code", "address", "lives", "living", "at")


def uk_recognizers() -> list[EntityRecognizer]:
    """Our UK set: custom recognizers plus Presidio's UK recognizers that ship disabled (re-scored)."""
    recs: list[EntityRecognizer] = [
        RegexRecognizer("PHONE_NUMBER", [PHONE_RX], context=PHONE_CONTEXT, context_boost=0.15),
        RegexRecognizer("IMEI", IMEI_RXS, context=IMEI_CONTEXT, context_boost=0.1),
        RegexRecognizer("UK_SORT_CODE", SORT_CODE_RXS, context=SORT_CONTEXT, window=50),
        RegexRecognizer("UK_BANK_ACCOUNT", ACCOUNT_RXS, context=ACCOUNT_CONTEXT, window=50),
        RegexRecognizer("UK_PNC_ID", [PNC_RX], context=("pnc", "police national computer")),
        RegexRecognizer("UK_CRO_NUMBER", CRO_RXS, context=("cro", "criminal record")),
        RegexRecognizer("SOCIAL_HANDLE", HANDLE_RXS),
        RegexRecognizer("UK_POSTCODE", POSTCODE_RXS, context=POSTCODE_CONTEXT, window=30),
        RegexRecognizer("UK_VEHICLE_REGISTRATION", VEHICLE_RXS, context=VEHICLE_CONTEXT, context_boost=0.25),
        RegexRecognizer("UK_ADDRESS", [ADDRESS_RX, ADDRESS_GATE_RX, ADDRESS_POSTCODE_RX]),
        LowercaseNameRecognizer(),
        RegexRecognizer("UK_PASSPORT", [Rx(r"(?<![\w-])\d{9}(?![\w-])", 0.5, context_required=True)],
                        context=("passport",), context_boost=0.3, name="UkPassportDigitsRecognizer"),
    ]
    # Presidio's own UK recognizers (disabled by default). NHS is already in the default set.
    nino = UkNinoRecognizer()
    _rescore(nino, 0.6)
    passport = UkPassportRecognizer()
    _rescore(passport, 0.4)
    passport.global_regex_flags = re.MULTILINE  # two upper-case letters + 7 digits: case matters
    recs += [nino, passport, UkDrivingLicenceRecognizer()]
    return recs


def _rescore(recognizer: Any, score: float) -> None:
    for pattern in recognizer.patterns:
        pattern.score = max(pattern.score, score)


# Presidio recognizers for other countries' identifiers: dropped (false positives on UK text).
FOREIGN_ENTITY_PREFIXES = ("US_", "AU_", "IN_", "SG_", "ES_", "IT_", "PL_", "FI_", "KR_", "SE_", "ZA_", "TH_", "TR_",
                           "NG_", "PH_", "DE_", "CA_", "MEDICAL_LICENSE")


def is_foreign(recognizer: EntityRecognizer) -> bool:
    return all(e.startswith(FOREIGN_ENTITY_PREFIXES) for e in recognizer.supported_entities)
