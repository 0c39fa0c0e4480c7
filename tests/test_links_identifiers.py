"""Identifier extraction and normalisation for the cross-case index: every written form gives one canonical value,
and things that only look like identifiers (dates, references, card-like numbers, word pairs) give none."""

from __future__ import annotations

import pytest

from assistant.links.identifiers import (
    ACCOUNT,
    EMAIL,
    HANDLE,
    IMEI,
    NAME,
    PHONE,
    VEHICLE,
    aliases,
    classify_query,
    extract,
    names_from_entities,
    normalize_name,
    normalize_phone,
)


def values(text: str, kind: str) -> list[str]:
    return [f.value for f in extract(text) if f.type == kind]


@pytest.mark.parametrize("written", ["07700 900418", "07700900418", "+44 7700 900418", "+44 (0)7700-900418",
                                     "0044 7700 900418", "(07700) 900 418", "+447700900418"])
def test_uk_phone_forms_share_one_e164(written: str) -> None:
    assert values(f"call {written} tonight", PHONE) == ["+447700900418"]


def test_foreign_and_landline_numbers() -> None:
    assert values("Polish number +48 601 234 567, home (01632) 960123", PHONE) == ["+48601234567", "+441632960123"]


def test_default_region_is_a_parameter() -> None:
    assert normalize_phone("0601 234 567", "PL") == ""  # Poland has no trunk 0: not read as a national number
    assert normalize_phone("06 12 34 56 78", "FR") == "+33612345678"


@pytest.mark.parametrize("text", ["on 21/01/2023 at 20:48", "URN: 46 KE 0412 23", "reference 12345678",
                                  "dates 2023 01 21 and 23-01-21", "£620 in 20 and 10 notes", "case 2023-0147"])
def test_dates_and_references_are_not_phones(text: str) -> None:
    assert values(text, PHONE) == []


def test_imei_forms_and_luhn() -> None:
    assert values("IMEI 352910114827367", IMEI) == ["352910114827367"]
    assert values("IMEI 35-291011-482736-7", IMEI) == ["352910114827367"]
    assert values("IMEI 35 291011 482736 7", IMEI) == ["352910114827367"]
    assert values("IMEI 352910114827368", IMEI) == []  # fails Luhn


def test_vehicle_registration_forms() -> None:
    assert values("car LK19 XRT, then lk19xrt, then LK19XRT", VEHICLE) == ["LK19XRT"] * 3
    assert values("words Ab12 Cde are not a plate", VEHICLE) == []


def test_email_handle_account() -> None:
    assert values("mail M.Wolski94@Example.com.", EMAIL) == ["m.wolski94@example.com"]
    assert values("Snapchat @W0lfie_94 and Instagram @marek.w.94.", HANDLE) == ["@w0lfie_94", "@marek.w.94"]
    assert values("sort code 20-45-77 account 41234567", ACCOUNT) == ["204577-41234567"]
    assert values("sort code 20 45 77, a/c 41234567", ACCOUNT) == ["204577-41234567"]
    assert values("on 23-01-21 it rained", ACCOUNT) == []  # a date-like triple alone is no account


def test_each_span_is_claimed_once() -> None:
    found = extract("write to joe.07700900418@example.com")
    assert [(f.type, f.value) for f in found] == [(EMAIL, "joe.07700900418@example.com")]


def test_names_and_aliases() -> None:
    assert normalize_name("WOLSKI, Marek") == normalize_name("Mr Marek  WOLSKI") == "marek wolski"
    text = 'The driver is Marek WOLSKI, also known as "Wolfie". Andrei POPESCU aka Andi was there.'
    pairs = [p for p, _, _ in aliases(text)]
    assert [(p.name, p.alias) for p in pairs] == [("marek wolski", "wolfie"), ("andrei popescu", "andi")]


def test_person_spans_filtered_to_names() -> None:
    text = "Statement of: Craig DUNMORE\nOccupation: driver. Seen on Dunford Road by H. Ellery with Samir sim."
    spans = [(14, 39), (64, 77), (81, 90), (96, 105)]
    assert [f.value for f in names_from_entities(text, spans)] == ["craig dunmore"]


@pytest.mark.parametrize(("query", "expected"), [
    ("07700900418", ("+447700900418", PHONE)), ("+44 7700 900 418", ("+447700900418", PHONE)),
    ("lk19 xrt", ("LK19XRT", VEHICLE)), ("@W0lfie_94", ("@w0lfie_94", HANDLE)), ("w0lfie_94", ("@w0lfie_94", HANDLE)),
    ("35-291011-482736-7", ("352910114827367", IMEI)), ("WOLSKI, Marek", ("marek wolski", NAME)),
    ("20-45-77 41234567", ("204577-41234567", ACCOUNT)), ("M.Wolski94@example.COM", ("m.wolski94@example.com", EMAIL)),
])
def test_classify_query(query: str, expected: tuple[str, str]) -> None:
    assert classify_query(query) == expected
