"""Weekday and month names of a machine translation read against the original's calendar (text/calendar_words.py,
verify/machine.py), on the real verifier; the messages are fictional."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.config import AnswerSettings
from assistant.index.bm25 import Bm25Index
from assistant.ingest.translations import LABEL
from assistant.text.calendar_words import calendar_names, written_dates
from assistant.text.lexicon import normalize_arabic
from assistant.types import Passage
from assistant.verify.verifier import verify_draft


@pytest.mark.parametrize(("text", "lang", "days", "months", "dates"), [
    ("Przelew wyślę w poniedziałek, 5 maja 2024 r.", "pl", {"monday"}, {"may"}, ["5 May 2024"]),
    ("Do zobaczenia w środę, w maju 2024", "pl", {"wednesday"}, {"may"}, ["May 2024"]),
    ("Ne vedem luni, pe 3 mai 2024.", "ro", {"monday"}, {"may"}, ["3 May 2024"]),
    ("Nu mai vreau. Am stat 3 luni acolo.", "ro", set(), set(), []),  # "mai" = more, "3 luni" = three months
    ("سأرسل المبلغ يوم الخميس ٥ أيار ٢٠٢٤", "ar", {"thursday"}, {"may"}, ["5 May 2024"]),
    ("والجمعة في ١٢ ديسمبر", "ar", {"friday"}, {"december"}, ["12 December"]),
    ("میں جمعرات کو 5 مئی 2024 آؤں گا", "ur", {"thursday"}, {"may"}, ["5 May 2024"]),
    ("Hẹn gặp thứ năm, ngày 5 tháng 5 năm 2024", "vi", {"thursday"}, {"may"}, ["5 May 2024"]),
    ("Gặp vào tháng mười hai nhé", "vi", set(), {"december"}, []),
    ("See you on Monday 5 May", "en", set(), set(), []),  # English is read by the ordinary date reader
])
def test_calendar_words_in_each_language(text: str, lang: str, days: set[str], months: set[str],
                                         dates: list[str]) -> None:
    assert calendar_names(text, lang) == (days, months)
    assert written_dates(text, lang) == dates


def test_arabic_normalisation() -> None:
    assert normalize_arabic("أَحْمَد إلى مدرسةٍ آخِرة ـــ ١٩٩٣") == "احمد الي مدرسه اخره  1993"


def test_bm25_finds_arabic_written_with_other_alef_taa_marbuta_diacritics_and_digits() -> None:
    docs = ["ذهبَ أحمدُ إلى المدرسةِ عام ١٩٩٣", "وصلت السيارة إلى المطار", "The car reached the airport in 1993"]
    index = Bm25Index.build(["a", "b", "c"], docs)
    assert [d for d, _ in index.search("احمد المدرسه", 3)] == ["a"]  # a diacritic no longer cuts a word in two
    assert {d for d, _ in index.search("1993", 3)} == {"a", "c"}


def _passage(body: str, lang: str, english: str, stamp: str = "2024-05-03 10:00") -> Passage:
    prefix = f"[{stamp}] Marek → Ola: "  # 3 May 2024 is a Friday
    meta: dict[str, Any] = {"messages": json.dumps([{
        "message_id": "m3", "language": lang, "body": body, "translation": english, "start": len(prefix),
        "end": len(prefix + english), "machine": f"{LABEL} (m, translate-v1, 2026-12-01 07:00 UTC)"}])}
    return Passage("c1", "tr", "phone.csv", "thread t2", prefix + english, 0.7, 1, kind="messages", meta=meta)


def _kept(claim: str, p: Passage) -> bool:
    v = verify_draft(f"{claim} [1].", [p], settings=AnswerSettings())
    return v.kept == 1


@pytest.mark.parametrize(("body", "lang"), [
    ("Przelew 4500 zł wyślę w poniedziałek rano.", "pl"),
    ("Transferul de 4500 de lei îl trimit luni dimineață.", "ro"),
    ("سأرسل التحويل بقيمة 4500 صباح يوم الاثنين.", "ar"),
    ("میں 4500 کی رقم پیر کی صبح بھیجوں گا۔", "ur"),
    ("Tôi sẽ chuyển khoản 4500 vào sáng thứ hai.", "vi"),
])
def test_a_weekday_the_original_does_not_name_supports_nothing(body: str, lang: str) -> None:
    right = _passage(body, lang, "I will send the transfer of 4500 on Monday morning.")
    assert _kept("Marek will send the transfer of 4500 on Monday morning", right)
    wrong = _passage(body, lang, "I will send the transfer of 4500 on Thursday morning.")
    assert not _kept("Marek will send the transfer of 4500 on Thursday morning", wrong)
    # what the wrong translation says besides the weekday still stands
    assert _kept("Marek will send the transfer of 4500", wrong)


@pytest.mark.parametrize(("body", "lang"), [
    ("Spotkanie jest 12 czerwca.", "pl"), ("Întâlnirea este pe 12 iunie.", "ro"), ("الاجتماع في 12 يونيو.", "ar"),
    ("ملاقات 12 جون کو ہے۔", "ur"), ("Cuộc họp vào ngày 12 tháng 6.", "vi"),
])
def test_a_month_and_a_date_are_read_in_the_original(body: str, lang: str) -> None:
    right = _passage(body, lang, "The meeting is on 12 June.")
    assert _kept("Marek wrote that the meeting is on 12 June", right)
    wrong = _passage(body, lang, "The meeting is on 12 July.")
    assert not _kept("Marek wrote that the meeting is on 12 July", wrong)
    month_only = _passage(body, lang, "The meeting is in July.")
    assert not _kept("Marek wrote that the meeting is in July", month_only)


def test_without_a_weekday_in_the_original_the_timestamp_decides() -> None:
    body = "Przelew wyślę jutro rano."  # "tomorrow morning", sent on Friday 3 May 2024
    assert _kept("Marek will send the transfer on Saturday morning",
                 _passage(body, "pl", "I will send the transfer on Saturday morning."))
    assert not _kept("Marek will send the transfer on Tuesday morning",
                     _passage(body, "pl", "I will send the transfer on Tuesday morning."))
    # the same Tuesday when the message was sent on a Monday (the day after): not contradicted
    assert _kept("Marek will send the transfer on Tuesday morning",
                 _passage(body, "pl", "I will send the transfer on Tuesday morning.", stamp="2024-05-06 10:00"))
