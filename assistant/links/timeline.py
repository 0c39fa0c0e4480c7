"""A case's chronology: every message (its own timestamp) and every dated event written in prose, in time order,
each cited to its chunk. A sentence with a date is an event on that date (at the time written with it, if any); a
sentence naming several dates is one event, under the first date it names, listing the others (`also`); a later
sentence of the same passage with only a time ("At 20:48 ...") is an event on the date in force."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from assistant.links.dates import find_dates, find_times
from assistant.links.identifiers import extract
from assistant.text.messages import message_records
from assistant.text.sentences import split_sentences

if TYPE_CHECKING:
    from assistant.links.ports import LinksApp


@dataclass(frozen=True)
class Cite:
    chunk_id: str
    source: str
    locator: str


@dataclass(frozen=True)
class Event:
    timestamp: str  # ISO 8601: a date, a date and time, or a message's own timestamp
    text: str
    citation: Cite
    kind: str = "statement"  # or "message"
    span: tuple[int, int] = (-1, -1)  # the message's English text, or the sentence, inside the cited chunk's text
    also: tuple[str, ...] = ()  # the other dates the sentence names, in the order written

    @property
    def sort_key(self) -> str:
        return self.timestamp[:19].ljust(19, " ")

    def to_json(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp, "also_dates": list(self.also), "text": self.text, "kind": self.kind,
                "citation": {"chunk_id": self.citation.chunk_id, "source": self.citation.source,
                             "locator": self.citation.locator}}


def _stamp(day: date, time: str) -> str:
    return f"{day.isoformat()}T{time}" if time else day.isoformat()


def prose_events(text: str, cite: Cite) -> list[Event]:
    events: list[Event] = []
    current: date | None = None
    for start, end in split_sentences(text):
        sentence = re.sub(r"\s+", " ", text[start:end]).strip()
        dates = find_dates(sentence, current.year if current else None)
        if dates:
            stamps = list(dict.fromkeys(_stamp(hit.day, hit.time) for hit in dates))
            events.append(Event(stamps[0], sentence, cite, span=(start, end), also=tuple(stamps[1:])))
            current = dates[-1].day
            continue
        times = find_times(sentence)
        if times and current is not None:
            events.append(Event(_stamp(current, times[0].time), sentence, cite, span=(start, end)))
    return events


def message_events(meta: dict[str, Any], cite: Cite) -> list[Event]:
    device = cite.locator.split(" / ")[0]
    out = []
    for r in message_records(meta):
        stamp = r.timestamp
        try:
            datetime.fromisoformat(stamp)
        except ValueError:
            continue  # a message without a readable timestamp has no place in a chronology
        who = f"{r.sender} → {r.recipient}" if r.recipient else r.sender
        words = r.english
        locator = f"{device} / thread {r.thread_id} / {r.message_id} / {stamp}"
        span = (r.start, r.end)
        out.append(Event(stamp, f"{who}: {words}", Cite(cite.chunk_id, cite.source, locator), "message", span))
    return out


def matches(event: Event, about: str) -> bool:
    wanted = {f.value for f in extract(about)}
    if wanted:
        return wanted <= {f.value for f in extract(event.text)}
    words = [w for w in re.findall(r"\w+", about.lower()) if len(w) > 1]
    text = event.text.lower()
    return all(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


def build_timeline(chunks: Iterable[tuple[str, str, dict[str, Any]]], about: str = "") -> list[Event]:
    """Events of (chunk_id, text, meta) chunks, deduplicated (overlapping chunks repeat sentences and messages) and
    sorted by time; `about` keeps the events that mention it (an identifier in any form, or all its words)."""
    best: dict[tuple[str, str], Event] = {}
    for chunk_id, text, meta in chunks:
        cite = Cite(chunk_id, str(meta.get("source", "")), str(meta.get("locator", "")))
        events = message_events(meta, cite) if meta.get("kind") == "messages" else prose_events(text, cite)
        for e in events:
            best.setdefault((e.timestamp, e.text), e)
    by_stamp: dict[str, list[str]] = {}
    for stamp, text in best:
        by_stamp.setdefault(stamp, []).append(text)
    events = [e for (stamp, text), e in best.items()  # a sentence cut at a chunk edge is kept only whole
              if not any(text != other and text in other for other in by_stamp[stamp])]
    events = [e for e in events if not about or matches(e, about)]
    return sorted(events, key=lambda e: (e.sort_key, e.citation.source, e.citation.chunk_id))


def case_timeline(app: LinksApp, case: str, about: str = "") -> list[Event]:
    chunks, _ = app.store.catalog(case)
    return build_timeline(((cid, c.text, c.meta) for cid, c in sorted(chunks.items())), about)
