"""PiiTagger with real Presidio and the packaged spaCy model: each recognizer's positives and near-misses."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from assistant.config import PiiSettings
from assistant.pii.recognizers import is_imei, luhn_ok
from assistant.pii.tagger import PiiTagger, normalize, terms_for_entities
from assistant.text.phone import uk_national_number
from assistant.types import Entity


@pytest.fixture(scope="module")
def tagger() -> Iterator[PiiTagger]:
    yield PiiTagger(PiiSettings())


def types_of(tagger: PiiTagger, text: str) -> dict[str, str]:
    """Text -> type of every entity except DATE_TIME (dates are expected anywhere and tested separately)."""
    return {e.text: e.type for e in tagger.tag(text) if e.type != "DATE_TIME"}


@pytest.mark.parametrize("phone", ["07700 900418", "07700900418", "+44 7700 900418", "+447700900418",
                                   "(01632) 960123", "01632 960 123", "020 7946 0000", "+44 (0)7700 900418"])
def test_uk_phone_forms_including_drama_ranges(tagger: PiiTagger, phone: str) -> None:
    ents = [e for e in tagger.tag(f"Call him on {phone} tonight.") if e.type != "DATE_TIME"]
    assert [(e.type, e.text) for e in ents] == [("PHONE_NUMBER", phone)]
    assert ents[0].normalized.startswith("+44") and ents[0].normalized[1:].isdigit()


def test_phone_normalised_to_e164(tagger: PiiTagger) -> None:
    norms = {e.normalized for e in tagger.tag("07700 900418 and +44 7700 900418 and 07700900418")}
    assert norms == {"+447700900418"}


@pytest.mark.parametrize("text", ["It happened in 2019 at 14:30.", "She was paid £1,250.00 in cash.",
                                  "Case reference OP/KES/2023/014 was closed.", "Seen on 12/03/2023 and 03-11-1998.",
                                  "Receipt 12345678 was printed.", "The code was 87654321."])
def test_near_misses_are_not_identifiers(tagger: PiiTagger, text: str) -> None:
    found = {e.type for e in tagger.tag(text)}
    assert not found & {"PHONE_NUMBER", "UK_BANK_ACCOUNT", "UK_SORT_CODE", "UK_PNC_ID", "UK_CRO_NUMBER", "IMEI",
                        "CREDIT_CARD", "UK_VEHICLE_REGISTRATION", "UK_POSTCODE"}


def test_imei_beats_credit_card(tagger: PiiTagger) -> None:
    ents = tagger.tag("The handset IMEI 356938035643809 was seized.")
    assert [(e.type, e.normalized) for e in ents if e.text == "356938035643809"] == [("IMEI", "356938035643809")]
    assert not any(e.type == "CREDIT_CARD" for e in ents)


def test_non_luhn_15_digits_is_not_imei(tagger: PiiTagger) -> None:
    assert not any(e.type == "IMEI" for e in tagger.tag("IMEI 356938035643808"))


def test_sort_code_and_account_need_context(tagger: PiiTagger) -> None:
    found = types_of(tagger, "Paid into sort code 20-45-77, account number 53182047.")
    assert found["20-45-77"] == "UK_SORT_CODE" and found["53182047"] == "UK_BANK_ACCOUNT"
    assert types_of(tagger, "Item 20-45-77 on shelf 53182047.") == {}
    ents = tagger.tag("send the money to 12-34-56 12345678 today")
    assert [(e.type, e.normalized) for e in ents if e.type != "DATE_TIME"] == [("UK_SORT_CODE", "123456"),
                                                                           ("UK_BANK_ACCOUNT", "12345678")]


def test_pnc_and_cro(tagger: PiiTagger) -> None:
    found = types_of(tagger, "PNC 19/123456X and 2019/0123456A; CRO 123456/19A and SF19/123456A.")
    assert found["19/123456X"] == "UK_PNC_ID" and found["2019/0123456A"] == "UK_PNC_ID"
    assert found["123456/19A"] == "UK_CRO_NUMBER" and found["SF19/123456A"] == "UK_CRO_NUMBER"


def test_social_handle_is_not_an_email(tagger: PiiTagger) -> None:
    ents = tagger.tag("Follow @Marek_99 or write to marek.nowak@example.com")
    assert [(e.type, e.normalized) for e in ents] == [("SOCIAL_HANDLE", "@marek_99"),
                                                      ("EMAIL_ADDRESS", "marek.nowak@example.com")]


def test_vehicle_postcode_nino_address(tagger: PiiTagger) -> None:
    ents = {e.type: e for e in tagger.tag(
        "Vehicle AB12 CDE was seen. NINO JG 10 37 22 B. Postcode M1 1AE. She lives at 14 Hartley Road, Leeds LS6 2AB.")}
    assert ents["UK_VEHICLE_REGISTRATION"].normalized == "AB12CDE"
    assert ents["UK_NINO"].normalized == "JG103722B"
    assert ents["UK_POSTCODE"].normalized == "M11AE"
    assert ents["UK_ADDRESS"].text == "14 Hartley Road, Leeds LS6 2AB"


def test_informal_lowercase_message(tagger: PiiTagger) -> None:
    found = types_of(tagger, "marek: tell ionut to bring the car ab12 cde to ls6 2ab. add me on snap ionut_22")
    assert found == {"marek": "PERSON", "ionut": "PERSON", "ab12 cde": "UK_VEHICLE_REGISTRATION",
                     "ls6 2ab": "UK_POSTCODE", "ionut_22": "SOCIAL_HANDLE"}
    assert types_of(tagger, "walked 3 days down the road and then went home") == {}


def test_ner_does_not_outrank_patterns(tagger: PiiTagger) -> None:
    ents = tagger.tag("John Smith drove the Ford Focus YK19 HBN and called 07700 900418 on 12/03/2023.")
    by_text = {e.text: e.type for e in ents}
    assert by_text["John Smith"] == "PERSON"
    assert by_text["YK19 HBN"] == "UK_VEHICLE_REGISTRATION" and by_text["07700 900418"] == "PHONE_NUMBER"
    assert "Ford Focus" not in by_text


def test_entities_sorted_non_overlapping_and_above_min_score(tagger: PiiTagger) -> None:
    text = ("DC Thomas Grant seized IMEI 356938035643809 at 41 Rowan Close, Bradford BD7 3QS. Sarah rang "
            "07700 900127, e-mail kingpin.roll@example.com, @lilz_vibes07.")
    ents = tagger.tag(text)
    assert ents == sorted(ents, key=lambda e: e.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(ents))
    assert all(e.score >= 0.4 and text[e.start:e.end] == e.text for e in ents)


def test_tag_many_matches_tag(tagger: PiiTagger) -> None:
    texts = ["Call 07700 900418.", "", "IMEI 356938035643809 and @tazz_09"]
    assert tagger.tag_many(texts) == [tagger.tag(t) for t in texts]


def test_query_terms_bridge_written_forms(tagger: PiiTagger) -> None:
    assert tagger.query_terms("who used 07700900418?") == ["07700900418", "+447700900418"]
    assert set(tagger.query_terms("number 07700 900418, plate ab12 cde")) >= {"07700900418", "+447700900418",
                                                                               "AB12CDE"}


def test_normalize_and_terms() -> None:
    assert normalize("PHONE_NUMBER", "(01632) 960123") == "+441632960123"
    assert normalize("UK_VEHICLE_REGISTRATION", "ab12 cde") == "AB12CDE"
    assert normalize("UK_POSTCODE", "ls6 2ab") == "LS62AB"
    assert normalize("EMAIL_ADDRESS", "A.B@Example.COM") == "a.b@example.com"
    assert normalize("UK_SORT_CODE", "12-34-56") == "123456"
    assert normalize("PERSON", "Marek") == ""
    handle = Entity("SOCIAL_HANDLE", 0, 9, "@Marek_99", 0.8, "@marek_99")
    addr = Entity("UK_ADDRESS", 0, 30, "14 Hartley Road, Leeds LS6 2AB", 0.7)
    assert terms_for_entities([handle, addr]) == ["@marek_99", "marek_99", "LS62AB"]


def test_validators() -> None:
    assert luhn_ok("356938035643809") and not luhn_ok("356938035643808")
    assert is_imei("35-693803-564380-9")
    assert uk_national_number("+44 (0)20 7946 0000") == "2079460000"
    assert uk_national_number("12345678901") == "" and uk_national_number("+1 415 555 0100") == ""
