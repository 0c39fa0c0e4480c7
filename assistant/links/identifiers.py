"""Linkable identifiers of a text, each in one canonical form so that any written form finds every other form.

phone numbers -> E.164 ("07700 900418", "+44 (0)7700-900418", "0044 7700 900418" -> "+447700900418"; national
numbers are read in the default region, a setting); IMEI -> 15 digits, Luhn-checked; UK vehicle registrations ->
upper case without spaces; e-mail -> lower case; social handles -> "@" + lower case; sort code + account ->
"NNNNNN-NNNNNNNN"; person names -> "forename surname" in lower case (from "SURNAME, Forename" too), with the aliases
a text declares ("Marek WOLSKI, also known as 'Wolfie'").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import phonenumbers

from assistant.text.identifiers import _EMAIL

PHONE, IMEI, VEHICLE, EMAIL, HANDLE, ACCOUNT, NAME = ("phone", "imei", "vehicle", "email", "handle",
                                                       "bank_account", "name")
TYPES: tuple[str, ...] = (PHONE, IMEI, VEHICLE, EMAIL, HANDLE, ACCOUNT, NAME)


@dataclass(frozen=True)
class Found:
    """One identifier occurrence: its canonical value, its type and where it was written in the text."""

    value: str
    type: str
    start: int
    end: int


@dataclass(frozen=True)
class AliasPair:
    """`alias` (canonical name form) was declared another name of `name`."""

    name: str
    alias: str


_IMEI_RX = re.compile(r"(?<![\d+])\d{2}[ \-]?\d{6}[ \-]?\d{6}[ \-]?\d(?!\d)")
_PHONE_RX = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ()\-.]{7,18}\d(?![\d])")
_SORT_ACCOUNT_RX = re.compile(
    r"(?<![\d-])(\d{2})[- ](\d{2})[- ](\d{2})(?![\d-])[^\d\n]{0,25}?(?<!\d)(\d{8})(?!\d)")
_VEHICLE_RX = re.compile(r"(?<![\w@])([A-Za-z]{2}\d{2})[ ]?([A-Za-z]{3})(?!\w)")
_HANDLE_RX = re.compile(r"(?<![\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)")
_TITLES = frozenset("mr mrs ms miss dr pc dc ds di dci sgt insp supt det cst".split())
_NAME_WORD = r"[A-Z][A-Za-z'’\-]+"
_FULL_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,2}}"
_ALIAS_RX = re.compile(
    rf"({_FULL_NAME}),?\s+(?:\(\s*)?(?:also\s+known\s+as|a\.?k\.?a\.?|known\s+as|alias)\s+[\"'“‘]?"
    rf"({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})[\"'”’]?")


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)


def normalize_phone(text: str, region: str = "GB") -> str:
    """E.164 of a written phone number, or "" when it is not one. A number without an international prefix must
    carry the region's national trunk "0" (stripped by the parse) and 10-11 digits, so dates, amounts and
    references are never read as phones."""
    raw = text.strip()
    ds = re.sub(r"\D", "", raw)
    international = raw.startswith("+") or (raw.startswith("00") and not raw.startswith("000"))
    if not international and not (raw.lstrip("(").startswith("0") and 10 <= len(ds) <= 11):
        return ""
    cleaned = re.sub(r"\(0\)", "", raw) if international else raw
    if raw.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        num = phonenumbers.parse(cleaned, None if international else region)
    except phonenumbers.NumberParseException:
        return ""
    national = str(num.national_number)
    if not phonenumbers.is_possible_number(num) or len(national) < 9:
        return ""
    if not international and (num.italian_leading_zero or len(national) != len(ds) - 1):  # no trunk "0" stripped
        return ""
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def luhn_ok(number: str) -> bool:
    """The Luhn check digit test (IMEIs carry one). Kept here so the links index never loads Presidio."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def normalize_imei(text: str) -> str:
    ds = re.sub(r"\D", "", text)
    return ds if len(ds) == 15 and luhn_ok(ds) else ""


def normalize_vehicle(text: str) -> str:
    squashed = re.sub(r"\s", "", text).upper()
    return squashed if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z]{3}", squashed) else ""


def normalize_name(text: str) -> str:
    """'WOLSKI, Marek' / 'Marek  Wolski' / 'Mr Marek WOLSKI' -> 'marek wolski'."""
    t = re.sub(r"\s+", " ", text.replace("’", "'")).strip(" \"'“”‘,.")
    if "," in t:
        surname, _, forenames = t.partition(",")
        t = f"{forenames.strip()} {surname.strip()}"
    words = [w for w in t.lower().split() if w.rstrip(".") not in _TITLES]
    return " ".join(words)


def extract(text: str, region: str = "GB") -> list[Found]:
    """Every identifier written in `text` (names excepted: see `names_from_entities` and `aliases`). Each span is
    claimed once, most specific type first (e-mail, handle, account, IMEI, registration, phone)."""
    found: list[Found] = []
    masked = text

    def claim(value: str, kind: str, span: tuple[int, int]) -> None:
        nonlocal masked
        found.append(Found(value, kind, span[0], span[1]))
        masked = _mask(masked, [span])

    for m in list(_EMAIL.finditer(masked)):
        claim(m.group(0).rstrip(".").lower(), EMAIL, m.span())
    for m in list(_HANDLE_RX.finditer(masked)):
        claim("@" + m.group(1).lower(), HANDLE, m.span())
    for m in list(_SORT_ACCOUNT_RX.finditer(masked)):
        claim(f"{m.group(1)}{m.group(2)}{m.group(3)}-{m.group(4)}", ACCOUNT, m.span())
    for m in list(_IMEI_RX.finditer(masked)):
        imei = normalize_imei(m.group(0))
        if imei:
            claim(imei, IMEI, m.span())
    for m in list(_VEHICLE_RX.finditer(masked)):
        reg = normalize_vehicle(m.group(0))
        if reg and (m.group(0).isupper() or m.group(0).islower()):  # "Ab12 Cde" is a word pair, not a plate
            claim(reg, VEHICLE, m.span())
    for m in list(_PHONE_RX.finditer(masked)):
        candidate = m.group(0).rstrip(" .-")
        phone = normalize_phone(candidate, region)
        if phone:
            claim(phone, PHONE, (m.start(), m.start() + len(candidate)))
    return sorted(found, key=lambda f: f.start)


def aliases(text: str) -> Iterator[tuple[AliasPair, Found, Found]]:
    """Names declared as one person by "X also known as Y", "X aka Y", "X, known as 'Y'", "X alias Y"."""
    for m in _ALIAS_RX.finditer(text):
        name, alias = normalize_name(m.group(1)), normalize_name(m.group(2))
        if name and alias and name != alias:
            yield (AliasPair(name, alias), Found(name, NAME, *m.span(1)), Found(alias, NAME, *m.span(2)))


_NOT_PERSON_WORDS = frozenset(
    """road rd lane close street st avenue ave row way drive court place square park gardens crescent terrace
    cars taxis ltd limited plc constabulary police council school academy college station market centre hospital
    source date signature occupation age""".split())


def names_from_entities(text: str, spans: Iterable[tuple[int, int]]) -> list[Found]:
    """Person names tagged at ingest (PERSON spans), kept when they are 2-3 capitalised words on one line with no
    initials, digits or place/organisation words: a lone forename or a mis-tagged street links unrelated cases."""
    out = []
    for s, e in spans:
        raw = text[s:e].split("\n", 1)[0]
        words = re.sub(r"[,]", " ", raw).split()
        if not 2 <= len(words) <= 3 or not all(re.fullmatch(r"[A-Z][A-Za-z'’\-]+", w) for w in words):
            continue
        name = normalize_name(raw)
        if len(name.split()) >= 2 and not _NOT_PERSON_WORDS & set(name.split()):
            out.append(Found(name, NAME, s, s + len(raw)))
    return out


def classify_query(query: str, region: str = "GB") -> tuple[str, str]:
    """(canonical value, type) of a value typed by a user: the first identifier shape that spans the whole value;
    a single word with a digit or '_' is a handle typed without its '@'; anything else is a name."""
    q = query.strip()
    hits = [f for f in extract(q, region) if (f.end - f.start) >= len(q.strip(" .")) - 2]
    if hits:
        return hits[0].value, hits[0].type
    imei = normalize_imei(q)
    if imei:
        return imei, IMEI
    phone = normalize_phone(q, region)
    if phone:
        return phone, PHONE
    if re.fullmatch(r"[A-Za-z0-9_.]{3,30}", q) and re.search(r"[\d_]", q):  # a handle typed without its '@'
        return "@" + q.lower(), HANDLE
    return normalize_name(q), NAME
