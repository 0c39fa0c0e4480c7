"""The text toolkit: one message codec, one phone normaliser, one quote locator, one line helper, one lexicon."""

from __future__ import annotations

import pytest

from assistant.config import PiiSettings
from assistant.pii.display import mask_passage
from assistant.text.identifiers import extract_identifiers
from assistant.text.lexicon import MONTHS, SEARCH_STOPWORDS, STOPWORDS, search_terms
from assistant.text.messages import MessageRecord, decode_records, encode_records, message_records, message_spans
from assistant.text.phone import uk_e164, uk_national, uk_national_number
from assistant.text.quotes import line_span, locate_quote
from assistant.text.sentences import passage_units
from assistant.types import Entity, Passage


def _record(**kw: object) -> MessageRecord:
    base: dict[str, object] = {"message_id": "m1", "thread_id": "t", "timestamp": "2023-03-01T10:00:00",
                               "sender": "Ann", "recipient": "Bob", "language": "pl", "body": "cześć",
                               "translation": "hello", "device": "phone-1", "start": 10, "end": 15, "index": 0}
    base.update(kw)
    return MessageRecord(**base)  # type: ignore[arg-type]


def test_message_records_round_trip_through_the_one_codec() -> None:
    records = (_record(), _record(message_id="m2", translation="", start=30, end=35, part="1/2"))
    assert decode_records(encode_records(records)) == records
    assert records[0].english == "hello" and records[1].english == "cześć"
    assert not records[0].untranslated and records[1].untranslated


@pytest.mark.parametrize("raw", [None, 7, "", "{not json", '{"a": 1}', "[1, 2]", '"text"'])
def test_malformed_message_json_gives_no_records(raw: object) -> None:
    assert decode_records(raw) == ()
    assert message_spans({"messages": raw} if raw is not None else {}) == []


def test_wrongly_typed_fields_take_their_defaults() -> None:
    meta = {"messages": '[{"message_id": 5, "start": "3", "end": 9, "sender": "Ann"}, "junk", {"end": true}]'}
    first, second = message_records(meta)
    assert (first.message_id, first.start, first.end, first.sender) == ("", -1, 9, "Ann")
    assert second.end == -1 and first.span is None


def test_passage_units_use_message_offsets_and_fall_back_to_sentences() -> None:
    text = "[t] Ann: Hello there. Bye now.\n[t] Bob: Fine."
    meta = {"messages": encode_records([_record(start=9, end=30), _record(start=40, end=45)])}
    assert passage_units(text, "messages", meta) == [(9, 30), (40, 45)]
    assert passage_units(text, "messages", {"messages": "{broken"}) == [(0, 21), (22, 30), (31, 45)]


STRICT = PiiSettings(mask_all_pii_roles=["reviewer"])  # the strict policy: every PII entity as a placeholder


def test_display_mask_survives_malformed_message_json_and_leaks_nothing() -> None:
    text = "[t] Ann: call Samir Khan now"
    ent = Entity(type="PERSON", start=14, end=24, text="Samir Khan", score=0.9)
    bad = Passage(chunk_id="c", case="k", source="s", locator="l", text=text, score=1.0, kind="messages",
                  meta={"messages": '[{"body": "Samir Khan"'}, entities=(ent,))
    shown = mask_passage(bad, "reviewer", STRICT)
    assert "Samir" not in shown.text and shown.meta["messages"] == "[]"
    good = Passage(chunk_id="c", case="k", source="s", locator="l", text=text, score=1.0, kind="messages",
                   meta={"messages": encode_records([_record(body="call Samir Khan now", translation="")])},
                   entities=(ent,))
    (rec,) = message_records(mask_passage(good, "reviewer", STRICT).meta)
    assert "Samir" not in rec.body and rec.body.startswith("call <PERSON_")
    assert mask_passage(good, "supervisor", PiiSettings()) is good


@pytest.mark.parametrize("written", ["07700 900418", "+44 7700 900418", "+44 (0)7700 900418", "0044 7700 900418",
                                     "447700900418", "(07700) 900-418"])
def test_one_uk_phone_normaliser(written: str) -> None:
    assert uk_national(written) == "07700900418"
    assert uk_national_number(written) == "7700900418" and uk_e164(written) == "+447700900418"
    assert "07700900418" in extract_identifiers(f"rang {written} twice").numbers


def test_phone_normaliser_leaves_other_numbers_alone() -> None:
    assert uk_national("+1 415 555 0100") == "14155550100" and uk_national_number("+1 415 555 0100") == ""
    assert uk_national("12345678901") == "12345678901" and uk_e164("12345678901") == ""


def test_locate_quote_prefers_the_hint_then_normalises() -> None:
    text = "He said “Stop”. Later he said \u201cstop\u201d again."
    assert locate_quote(text, "“stop”", hint=30) == (30, 36)
    assert locate_quote(text, '"STOP"') == (9, 13)
    assert locate_quote(text, "later HE said ... again") == (16, 42)
    assert locate_quote(text, "never said") is None and locate_quote(text, "...") is None


def test_line_span_covers_the_lines_of_a_span() -> None:
    text = "first line\n[10:00] Ann: hi there  \nlast"
    assert text[slice(*line_span(text, 24, 26))] == "[10:00] Ann: hi there"
    assert line_span(text, 24, 26, trim=False) == (11, 34) and text[34] == "\n"
    assert line_span(text, 0, 3) == (0, 10) and line_span(text, 36, 38) == (35, 39)


def test_lexicon_has_one_month_table_and_search_stopwords_are_stopwords() -> None:
    assert SEARCH_STOPWORDS <= STOPWORDS
    assert MONTHS["sept"] == MONTHS["september"] == 9 and MONTHS["may"] == 5
    assert search_terms("The cars of Ann's 2023 trip") == ["car", "ann", "2023", "trip"]
