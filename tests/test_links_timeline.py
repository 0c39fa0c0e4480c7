"""The date-phrase parser and the chronology built from prose sentences and message records."""

from __future__ import annotations

import json
from datetime import date

import pytest

from assistant.links.dates import find_dates, find_times
from assistant.links.timeline import build_timeline


@pytest.mark.parametrize(("text", "expected"), [
    ("on Thursday 14 March 2024 at about 11pm", (date(2024, 3, 14), "23:00")),
    ("On Wednesday 22nd March 2023 I was on patrol", (date(2023, 3, 22), "")),
    ("at 23:40 on 14/03/2024 she was taken home", (date(2024, 3, 14), "23:40")),
    ("March 14, 2024 at 9.15am", (date(2024, 3, 14), "09:15")),
    ("on the 3rd of February 2023 at midday", (date(2023, 2, 3), "12:00")),
    ("logged 2024-03-14 at 2330 hrs", (date(2024, 3, 14), "")),  # "2330" without a colon is no time
    ("seen on 2024-03-14 at 12.30am", (date(2024, 3, 14), "00:30")),
])
def test_date_phrases(text: str, expected: tuple[date, str]) -> None:
    hits = find_dates(text)
    assert [(h.day, h.time) for h in hits] == [expected]


@pytest.mark.parametrize("text", ["Marek WOLSKI (DOB 11/09/1994)", "Kacper (born 17/06/2007)",
                                  "Signature: O. Price     Date: 16/03/2024", "**Date of report:** 16/02/2023",
                                  "on 31/02/2023", "Sunday 22nd January"])
def test_not_events(text: str) -> None:
    assert find_dates(text) == []


def test_year_in_force_and_times() -> None:
    assert [h.day for h in find_dates("He came home on Sunday 22nd January at 14:00", 2023)] == [date(2023, 1, 22)]
    assert [t.time for t in find_times("from 15:00 to 01:00, at 6pm, 13:75, 0.5pm")] == ["15:00", "01:00", "18:00"]


def test_time_goes_with_its_own_date() -> None:
    hits = find_dates("on 22/01/2023 between 09:50 and 12:40, and on 10/03/2023 between 19:10 and 22:40")
    assert [(h.day.isoformat(), h.time) for h in hits] == [("2023-01-22", "09:50"), ("2023-03-10", "19:10")]


def test_build_timeline_orders_dedupes_and_cites() -> None:
    prose = ("On Thursday 14 March 2024 Leah went out at about 6pm. It rained. At 21:30 I called the police.\n\n"
             "Date: 15/03/2024")
    records = [{"message_id": "M2", "thread_id": "T", "timestamp": "2024-03-14T21:58:27+00:00", "sender": "W",
                "recipient": "L", "body": "outside now", "translation": ""},
               {"message_id": "M1", "thread_id": "T", "timestamp": "2024-03-14T18:30:00+00:00", "sender": "L",
                "recipient": "", "body": "jade", "translation": "i'm going"},
               {"message_id": "M3", "thread_id": "T", "timestamp": "garbled", "sender": "L", "body": "x"}]
    msg_meta = {"kind": "messages", "source": "m.csv", "locator": "PL/1 Moto / thread T / 2 messages",
                "messages": json.dumps(records)}
    chunks = [("c:1", prose, {"kind": "text", "source": "s.txt", "locator": "lines 1-3"}),
              ("c:2", prose[:60], {"kind": "text", "source": "s.txt", "locator": "lines 1-1"}),  # overlap, cut
              ("m:1", "", msg_meta), ("m:2", "", msg_meta)]
    events = build_timeline(chunks)
    assert [(e.timestamp, e.citation.chunk_id) for e in events] == [
        ("2024-03-14T18:00", "c:1"), ("2024-03-14T18:30:00+00:00", "m:1"), ("2024-03-14T21:30", "c:1"),
        ("2024-03-14T21:58:27+00:00", "m:1")]
    assert events[1].text == "L: i'm going" and events[3].text == "W → L: outside now"
    assert events[1].citation.locator == "PL/1 Moto / thread T / M1 / 2024-03-14T18:30:00+00:00"
    assert [e.timestamp for e in build_timeline(chunks, about="police")] == ["2024-03-14T21:30"]
