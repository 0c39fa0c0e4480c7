"""Dated events written in prose: "on Thursday 14 March 2024 at about 11pm", "at 23:40 on 14/03/2024",
"On Wednesday 22nd March 2023", "March 14, 2024 at 9.15am".

`find_dates` returns every calendar date of a text with the time of day written next to it (same clause), and
`find_times` every time of day; the timeline module pairs a sentence's time with the date in force. Dates that
are not events are skipped: a date of birth ("DOB 11/09/1994", "born on ...") and form fields ("Date: 23/03/2023")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.text.lexicon import MONTHS

_MON = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_DATE_RXS = (
    ("dmy", re.compile(rf"\b{_DAY}(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MON})\.?,?\s+(\d{{4}})\b", re.I)),
    ("mdy", re.compile(rf"\b{_DAY}({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("num", re.compile(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?![\d/.])")),
    ("dm", re.compile(rf"\b{_DAY}(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MON})\b\.?(?!\s*\d)", re.I)),
)
_TIME_RX = re.compile(
    r"(?<![\d.:])\b(?:(?P<h12>\d{1,2})(?:[.:](?P<m12>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|(?P<h24>[01]?\d|2[0-3])[:.](?P<m24>[0-5]\d)(?:\s*(?:hrs|hours))?(?![\d.:]\d)"
    r"|(?P<word>midnight|midday|noon))", re.I)
_NOT_EVENT_BEFORE = re.compile(
    r"(?:\bdob|date of birth|\bborn(?:\s+on)?|\bd\.o\.b\.?|\bdate\b(?:\s+of\s+\w+)?\W*)\s*[:(*]?\s*$", re.I)
_STOP = re.compile(r"[.!?;]\s|\n\s*\n")  # a time across a sentence end or a blank line is not this date's
_CLAUSE = 40  # chars between a date and the time written with it ("14 March 2024 at about 11pm")


@dataclass(frozen=True)
class DateHit:
    day: date
    start: int
    end: int
    time: str = ""  # "HH:MM" when a time of day is written with the date


@dataclass(frozen=True)
class TimeHit:
    time: str
    start: int
    end: int


def _make_date(kind: str, groups: tuple[str, ...], year: int | None) -> date | None:
    try:
        if kind == "dm":  # "Sunday 22nd January": the year of the date in force, if any
            return date(year, MONTHS[groups[1][:3].lower()], int(groups[0])) if year else None
        if kind == "dmy":
            return date(int(groups[2]), MONTHS[groups[1][:3].lower()], int(groups[0]))
        if kind == "mdy":
            return date(int(groups[2]), MONTHS[groups[0][:3].lower()], int(groups[1]))
        if kind == "iso":
            return date(int(groups[0]), int(groups[1]), int(groups[2]))
        return date(int(groups[2]), int(groups[1]), int(groups[0]))  # UK numeric: day first
    except (KeyError, ValueError):
        return None


def _time_of(m: re.Match[str]) -> str:
    if m.group("word"):
        return "00:00" if m.group("word").lower() == "midnight" else "12:00"
    if m.group("h24") is not None:
        return f"{int(m.group('h24')):02d}:{m.group('m24')}"
    hour, minute = int(m.group("h12")), int(m.group("m12") or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return ""
    hour = hour % 12 + (12 if m.group("ampm").lower().startswith("p") else 0)
    return f"{hour:02d}:{minute:02d}"


def find_times(text: str) -> list[TimeHit]:
    out = []
    for m in _TIME_RX.finditer(text):
        t = _time_of(m)
        if t:
            out.append(TimeHit(t, m.start(), m.end()))
    return out


def find_dates(text: str, year: int | None = None) -> list[DateHit]:
    """Calendar dates of `text`, each with the time written within the same clause, if any. A date written
    without a year takes `year` (that of the date in force) and is skipped when there is none."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[date, int, int]] = []
    for kind, rx in _DATE_RXS:
        for m in rx.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            day = _make_date(kind, m.groups(), year)
            taken.append(m.span())
            if day is not None and not _NOT_EVENT_BEFORE.search(text[max(0, m.start() - 20):m.start()]):
                found.append((day, m.start(), m.end()))
    times = [t for t in find_times(text) if not any(s <= t.start < e for s, e in taken)]
    hits = []
    for day, start, end in sorted(found, key=lambda x: x[1]):
        after = [t for t in times if 0 <= t.start - end <= _CLAUSE and not _STOP.search(text[end:t.start])]
        before = [t for t in times if 0 <= start - t.end <= _CLAUSE and not _STOP.search(text[t.end:start])]
        near = after[:1] or before[-1:]  # the time written after the date, else the closest one before it
        hits.append(DateHit(day, start, end, near[0].time if near else ""))
    return hits
