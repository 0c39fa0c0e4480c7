"""WhatsApp "Export chat" text files, Android and iOS, in every header shape seen in the public samples.

A header line is `[date, time] Sender: body` (iOS) or `date, time - Sender: body` (Android), with 12/24 h times,
optional seconds, dotted times, `a. m.` with NBSP or U+202F, `klo` (Finnish) and U+200E marks. A line that is not
a header continues the previous message. A header whose rest has no ": " is a system line.

Day/month order is decided per date shape (separator and where the 4-digit year sits), because one file can mix
shapes: a first component above 12 means day first, a second above 12 means month first; with no such evidence the
order with fewer backward jumps in time wins, and a tie is read day-first and reported as an assumption.
Times are the exporting phone's wall clock: kept without offset, tz "local, zone unknown".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from assistant.loaders.phone.records import LOCAL_UNKNOWN, PhoneRecord

_HEADER = re.compile(
    r"""^[\u200e\u200f\ufeff]*\[?
    (?P<date>\d{1,4}[./-]\s?\d{1,2}[./-]\s?\d{1,4})\.?[,،]?\s(?:klo\s)?
    (?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)(?:[\s\u202f\u00a0_]*(?P<ampm>[ap]\.?\s?m\.?))?
    \]?(?:\s[-\u2013]\s|:\s|\s)(?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u2068\u2069\ufeff"
_DELETED = frozenset({"this message was deleted", "you deleted this message"})
_E2E = "end-to-end encrypted"
_ATTACHED_IOS = re.compile(r"^<attached:\s*(?P<name>[^>]+)>$", re.IGNORECASE)
_ATTACHED_ANDROID = re.compile(r"^(?P<name>\S+\.\w{2,5}) \(file attached\)", re.IGNORECASE)
_OMITTED_IOS = re.compile(r"^(image|video|audio|sticker|gif|document|contact card) omitted$", re.IGNORECASE)
_OMITTED_ANDROID = re.compile(r"^<[^<>:]{3,40}>$")  # "<Media omitted>", "<Medien ausgeschlossen>", ...
NOT_INCLUDED = "media not included in the export"


def looks_like_export(head: str) -> bool:
    """True when most of the first non-blank lines of a .txt start with a WhatsApp header (sniffing)."""
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    hits = sum(1 for line in lines if _HEADER.match(line))
    return bool(lines) and _HEADER.match(lines[0]) is not None and hits >= max(1, len(lines) // 2)


@dataclass
class _Raw:
    line_no: int
    date: tuple[int, int, int]
    shape: str
    hour: int
    minute: int
    second: int
    rest: list[str]


def _shape(date: str) -> tuple[str, tuple[int, int, int]]:
    parts = re.split(r"[./-]\s?", date)
    sep = date[len(parts[0])]
    numbers = (int(parts[0]), int(parts[1]), int(parts[2]))
    where = "y-first" if len(parts[0]) == 4 or numbers[0] > 31 else "y-last"
    return f"{sep}{where}", numbers


def _clock(time: str, ampm: str | None) -> tuple[int, int, int]:
    pieces = [int(p) for p in re.split(r"[:.]", time)]
    hour, minute, second = pieces[0], pieces[1], pieces[2] if len(pieces) > 2 else 0
    if ampm:
        pm = ampm.lower().startswith("p")
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12:
            hour = 0
    return hour, minute, second


def _raw_headers(lines: Iterable[str]) -> Iterator[_Raw]:
    current: _Raw | None = None
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match is None:
            if current is not None:
                current.rest.append(line)
            continue
        if current is not None:
            yield current
        shape, date = _shape(match.group("date"))
        hour, minute, second = _clock(match.group("time"), match.group("ampm"))
        current = _Raw(number, date, shape, hour, minute, second, [match.group("rest")])
    if current is not None:
        yield current


def _as_date(numbers: tuple[int, int, int], order: str) -> tuple[int, int, int] | None:
    a, b, c = numbers
    year, month, day = (a, b, c) if order == "ymd" else (c, b, a) if order == "dmy" else (c, a, b)
    year = year + 2000 if year < 100 else year
    try:
        datetime(year, month, day)
    except ValueError:
        return None
    return year, month, day


def infer_orders(raws: list[_Raw]) -> dict[str, tuple[str, str]]:
    """For each date shape: (order, how it was decided). order is "ymd", "dmy" or "mdy"."""
    by_shape: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for raw in raws:
        by_shape[raw.shape].append(raw.date)
    decided: dict[str, tuple[str, str]] = {}
    for shape, dates in by_shape.items():
        if shape.endswith("y-first"):
            decided[shape] = ("ymd", "year first")
            continue
        day_first = sum(1 for d in dates if d[0] > 12)
        month_first = sum(1 for d in dates if d[1] > 12)
        if day_first and not month_first:
            decided[shape] = ("dmy", f"{day_first} date(s) with a first part above 12")
        elif month_first and not day_first:
            decided[shape] = ("mdy", f"{month_first} date(s) with a second part above 12")
        else:
            back = {order: _backward_jumps(dates, order) for order in ("dmy", "mdy")}
            if back["dmy"] != back["mdy"]:
                order = min(back, key=lambda k: back[k])
                decided[shape] = (order, f"fewer backward jumps in time ({back[order]} vs "
                                         f"{max(back.values())}); no part above 12")
            else:
                decided[shape] = ("dmy", "ambiguous (no part above 12, order gives no evidence): ASSUMED day first")
    return decided


def _backward_jumps(dates: list[tuple[int, int, int]], order: str) -> int:
    parsed = [_as_date(d, order) for d in dates]
    if any(p is None for p in parsed):
        return len(dates) + 1
    return sum(1 for x, y in pairwise(parsed) if x is not None and y is not None and y < x)


def _clean(text: str) -> str:
    """Without direction marks (U+200E/U+200F carry no meaning here) and outer embedding controls."""
    return text.replace("\u200e", "").replace("\u200f", "").strip().strip(_MARKS).strip()


def _media(body: str) -> tuple[str, tuple[str, ...]]:
    for pattern in (_ATTACHED_IOS, _ATTACHED_ANDROID):
        match = pattern.match(body)
        if match:
            return body[match.end():].strip(), (match.group("name").strip(),)
    if _OMITTED_IOS.match(body) or _OMITTED_ANDROID.match(body):
        return "", (NOT_INCLUDED,)
    return body, ()


def parse_export(text: str, thread: str) -> tuple[list[PhoneRecord], list[str]]:
    """Records of one export (messages and system lines, in file order) and notes on how dates were read."""
    raws = list(_raw_headers(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")))
    orders = infer_orders(raws)
    records: list[PhoneRecord] = []
    unreadable = 0
    for raw in raws:
        order = orders[raw.shape][0]
        ymd = _as_date(raw.date, order)
        if ymd is None:
            unreadable += 1
            continue
        stamp = datetime(*ymd, raw.hour % 24, raw.minute % 60, raw.second % 60).isoformat()
        rest = "\n".join(raw.rest).rstrip()
        sender, sep, body = rest.partition(": ")
        sender, body = _clean(sender.lstrip("~\u202f\u00a0 ")), _clean(body)
        system = not sep or _E2E in body.lower()
        deleted = not system and body.lower() in _DELETED
        attachments: tuple[str, ...] = ()
        if system:
            body = body if sep else _clean(rest)
        else:
            body, attachments = ("", ()) if deleted else _media(body)
        records.append(PhoneRecord(
            kind="system" if system else "message", record_id=f"L{raw.line_no}", thread=thread, timestamp=stamp,
            tz=LOCAL_UNKNOWN, body=body, sender="" if system else sender, deleted=deleted,
            source_app="WhatsApp", attachments=attachments, provenance=(f"{thread}#line {raw.line_no}",)))
    notes = [f"dates {_shape_name(shape)} read as {_ORDER_NAMES[order]} ({why})" for shape, (order, why) in
             sorted(orders.items())]
    if unreadable:
        notes.append(f"{unreadable} header line(s) skipped: impossible date")
    kinds = Counter(r.kind for r in records)
    notes.insert(0, f"WhatsApp text export: {kinds['message']} message(s), {kinds['system']} system line(s); "
                    "times are the phone's local clock, zone unknown")
    return records, notes


_ORDER_NAMES = {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year/month/day"}


def _shape_name(shape: str) -> str:
    return f"written with '{shape[0]}' ({shape[1:].replace('-', ' ')})"
