"""One person's timeline over every passage of a case (not the top 8): messages they sent or received or that name
them (the message's own timestamp), and dated sentences of statements and reports that name them (the date written
in the sentence, or the date in force for a sentence with only a time; assistant.links.timeline reads the dates).
A sentence that only says "he"/"she" right after a sentence about the person is about them too. Every line is a
verbatim quote with its citation; mentions without a date are listed separately; the longest silences between
dated events are stated.

With a topic ("the times Kacper went missing"), an episode is a paragraph with a sentence holding the topic: its
dated events are kept, and the person's other events on the same days."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from assistant.conversation.digest import name_terms
from assistant.conversation.timeline_request import TimelineRequest
from assistant.links.timeline import Cite, prose_events
from assistant.text.lexicon import content_terms
from assistant.text.messages import message_records
from assistant.text.sentences import split_sentences
from assistant.text.timestamps import parse_timestamp
from assistant.types import Answer, Citation, Passage

BACKEND = "person-timeline"
_MAX_EVENTS = 40  # lines in one chat answer; the CLI has them all
_MAX_UNDATED = 10
GAPS_SHOWN = 3
_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers)\b", re.I)
_PARAGRAPH = re.compile(r"\n\s*\n")
_ALIAS = re.compile(r"\b(?:also known as|known as|aka|a\.k\.a\.|alias|nicknamed)\s+[\"“']?([A-Z][\w'-]+)")


@dataclass(frozen=True)
class Entry:
    """One line: `when` is ISO ("" for an undated mention), `quote` the verbatim words at `start` of the passage."""

    when: str
    kind: str  # "message" | "statement"
    passage: Passage
    start: int
    end: int
    label: str = ""  # "sender → recipient" for messages
    also: tuple[str, ...] = ()  # the other dates a sentence names (it is listed once, under `when`)

    @property
    def quote(self) -> str:
        return self.passage.text[self.start:self.end]


@dataclass
class PersonTimeline:
    request: TimelineRequest
    events: list[Entry] = field(default_factory=list)
    undated: list[Entry] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    topic_missed: bool = False  # a topic was asked and no event holds it: every event is shown

    def gaps(self) -> list[tuple[str, str, int]]:
        """The longest silences between consecutive event days, longest first: (from, to, days)."""
        days = sorted({date.fromisoformat(e.when[:10]) for e in self.events})
        spans = [(a.isoformat(), b.isoformat(), (b - a).days) for a, b in itertools.pairwise(days)]
        return sorted((s for s in spans if s[2] > 1), key=lambda s: -s[2])[:GAPS_SHOWN]


def _mentions(text: str, terms: Iterable[str]) -> bool:
    low = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", low) for t in terms)


def _names(p: Passage, terms: list[str]) -> bool:
    """Does the passage name the person at all (its text, or a message's sender or recipient)?"""
    return _mentions(p.text, terms) or _mentions(str(p.meta.get("senders", "")), terms) or (
        p.kind == "messages" and any(_mentions(f"{m.sender} {m.recipient}", terms) for m in message_records(p.meta)))


def _terms(passages: list[Passage], person: str) -> list[str]:
    """The person's name words and the aliases declared next to them ("WOLSKI, also known as 'Mac'")."""
    terms = name_terms(person) or [person.lower()]
    for p in [p for p in passages if _mentions(p.text, terms)]:
        for s, e in split_sentences(p.text):
            if _mentions(p.text[s:e], terms):
                terms += [a.lower() for a in _ALIAS.findall(p.text[s:e]) if a.lower() not in terms]
    return terms


def _about(p: Passage, terms: list[str]) -> set[tuple[int, int]]:
    """Sentences of a prose passage about the person: naming them, or a pronoun right after one that is."""
    out: set[tuple[int, int]] = set()
    previous = False
    for s, e in split_sentences(p.text):
        sentence = p.text[s:e]
        named = _mentions(sentence, terms)
        follows = previous and bool(_PRONOUN.search(sentence)) and not _PARAGRAPH.search(p.text[max(0, s - 4):s])
        if named or follows:
            out.add((s, e))
        previous = named or follows
    return out


def _prose(p: Passage, terms: list[str]) -> tuple[list[Entry], list[Entry]]:
    about = _about(p, terms)
    dated: list[Entry] = []
    for ev in prose_events(p.text, Cite(p.chunk_id, p.source, p.locator)):
        if ev.span in about:
            dated.append(Entry(ev.timestamp, "statement", p, *ev.span, also=ev.also))
    spans = {(e.start, e.end) for e in dated}
    undated = [Entry("", "statement", p, s, e) for s, e in sorted(about - spans) if _mentions(p.text[s:e], terms)]
    return dated, undated


def _messages(p: Passage, terms: list[str]) -> tuple[list[Entry], list[Entry]]:
    dated: list[Entry] = []
    undated: list[Entry] = []
    for m in message_records(p.meta):
        if m.span is None or p.text[m.start:m.end] != m.english or not m.english.strip():
            continue
        if not (_mentions(m.sender, terms) or _mentions(m.recipient, terms) or _mentions(m.english, terms)):
            continue
        label = f"{m.sender} → {m.recipient}" if m.recipient else m.sender
        entry = Entry(m.timestamp if parse_timestamp(m.timestamp) else "", "message", p, m.start, m.end, label)
        (dated if entry.when else undated).append(entry)
    return dated, undated


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    """Overlapping chunks repeat sentences and messages: one line each (the longest, whole one)."""
    kept: list[tuple[str, Entry]] = []
    for entry in sorted(entries, key=lambda e: -(e.end - e.start)):
        key = re.sub(r"\W+", " ", entry.quote.lower()).strip()
        if not any(key in k and entry.when[:10] == other.when[:10] for k, other in kept):
            kept.append((key, entry))
    return [e for _, e in kept]


def _in_period(entry: Entry, request: TimelineRequest) -> Entry | None:
    """The entry under its first date inside the requested period (its other dates listed), None when it names no
    date inside it."""
    dates = (entry.when, *entry.also)
    inside = [d for d in dates if (not request.start or d[:10] >= request.start)
              and (not request.end or d[:10] <= request.end)]
    if not inside:
        return None
    return entry if inside[0] == entry.when else replace(entry, when=inside[0],
                                                         also=tuple(d for d in dates if d != inside[0]))


def _episodes(events: list[Entry], topic: tuple[str, ...]) -> list[Entry]:
    """Events of a paragraph holding the topic, and the person's other events on those days."""
    def paragraph(e: Entry) -> str:
        s = max((m.end() for m in _PARAGRAPH.finditer(e.passage.text, 0, e.start)), default=0)
        ends = [m.start() for m in _PARAGRAPH.finditer(e.passage.text, e.end)]
        return e.passage.text[s:ends[0] if ends else len(e.passage.text)]

    wanted = set(topic)
    hits = [e for e in events if wanted & set(content_terms(paragraph(e) if e.kind == "statement" else e.quote))]
    days = {e.when[:10] for e in hits}
    return [e for e in events if e in hits or e.when[:10] in days]


def collect(passages: Iterable[Passage], request: TimelineRequest) -> PersonTimeline:
    pool = list(passages)
    terms = _terms(pool, request.person)
    pool = [p for p in pool if _names(p, terms)]  # most passages of a case never name the person
    timeline = PersonTimeline(request)
    dated: list[Entry] = []
    undated: list[Entry] = []
    for p in pool:
        d, u = _messages(p, terms) if p.kind == "messages" else _prose(p, terms)
        dated += d
        undated += u
        if d or u:
            timeline.sources.add(p.source)
    dated = [kept for e in _unique(dated) if (kept := _in_period(e, request)) is not None]
    if request.topic:
        episodes = _episodes(dated, request.topic)
        timeline.topic_missed = not episodes
        dated = episodes or dated
    timeline.events = sorted(dated, key=lambda e: (e.when[:19], e.passage.source, e.start))
    timeline.undated = [] if request.start else sorted(_unique(undated), key=lambda e: (e.passage.source, e.start))
    return timeline


def _line(entry: Entry, n: int) -> str:
    quote = " ".join(entry.quote.split())
    when = entry.when[:16].replace("T", " ")
    also = f" (also names {', '.join(d[:16].replace('T', ' ') for d in entry.also)})" if entry.also else ""
    head = f"{when}{also} {entry.label}".strip() if entry.when else entry.label
    return f"- {head + ': ' if head else ''}{quote} [{n}]"


def timeline_answer(question: str, case: str, timeline: PersonTimeline, *,
                    cap: bool = True) -> tuple[Answer, list[Entry]]:
    """The timeline as an Answer (every line ends in its [n]) and the entries in citation order; `cap=False` keeps
    every line (the CLI)."""
    req = timeline.request
    max_events, max_undated = (_MAX_EVENTS, _MAX_UNDATED) if cap else (10**9, 10**9)
    scope = f" in {req.period}" if req.period else ""
    if not timeline.events and not timeline.undated:
        return Answer(question, case, "no_evidence", f"Not found in the case material: no dated event or mention of "
                      f"{req.person}{scope}.", BACKEND), []
    shown = timeline.events[:max_events] + timeline.undated[:max_undated]
    citations = tuple(Citation(n, e.passage.chunk_id, e.passage.source, e.passage.locator, e.quote, e.passage.text,
                               True, e.start) for n, e in enumerate(shown, start=1))
    about = f" (episodes: {req.topic_text})" if req.topic and not timeline.topic_missed else ""
    parts = [f"Timeline of {req.person}{about}{scope}: {len(timeline.events)} dated event(s) from "
             f"{len(timeline.sources)} source(s), in time order."]
    if timeline.topic_missed:
        parts.append(f"No event about {req.person} mentions “{req.topic_text}”: every dated event is listed.")
    parts += [_line(e, n) for n, e in enumerate(timeline.events[:max_events], start=1)]
    if len(timeline.events) > max_events:
        parts.append(f"- … and {len(timeline.events) - max_events} more (assistant timeline --person has them all)")
    if timeline.undated:
        parts.append("\nMentioned without a date:")
        first = min(len(timeline.events), max_events) + 1
        parts += [_line(e, n) for n, e in enumerate(timeline.undated[:max_undated], start=first)]
        if len(timeline.undated) > max_undated:
            parts.append(f"- … and {len(timeline.undated) - max_undated} more")
    parts.append("\nGaps:")
    if not timeline.events:
        parts.append(f"- no dated event found in {len(timeline.sources)} source(s) naming {req.person}{scope}")
    parts += [f"- nothing dated between {a} and {b} ({days} days)" for a, b, days in timeline.gaps()]
    if len(timeline.events) == 1:
        parts.append("- only one dated event")
    note = (f"Timeline over every passage naming {req.person}, not only the top-ranked ones; every line is quoted "
            "verbatim from its cited passage; dates are the messages' own timestamps or written in the sentence.")
    answer = Answer(question, case, "answered", "\n".join(parts), BACKEND, citations,
                    tuple({e.passage.chunk_id: e.passage for e in shown}.values()), notes=(note,))
    return answer, shown


def timeline_json(shown: Answer, entries: list[Entry], timeline: PersonTimeline,
                  mask: Callable[[str], str] = str) -> dict[str, object]:
    """The CLI's --json object, built from `shown` (the answer as the asker's role may see it, masked by the caller)
    so that no identifier leaves unmasked: each line's text, quote, source and locator are the shown ones; `when`
    and `kind` are the entry's, `when` passed through `mask` too (a date can be a protected date of birth)."""
    lines = {int(m.group(1)): line[2:] for line in shown.answer.splitlines()
             if line.startswith("- ") and (m := re.search(r"\[(\d+)\]$", line))}

    def item(c: Citation, e: Entry) -> dict[str, object]:
        return {"when": mask(e.when), "also": [mask(d) for d in e.also], "kind": e.kind, "line": lines.get(c.n, ""),
                "quote": c.quote,
                "citation": {"n": c.n, "chunk_id": c.chunk_id, "source": c.source, "locator": c.locator}}

    pairs = list(zip(shown.citations, entries, strict=True))
    return {"case": shown.case, "status": shown.status, "person": shown.question, "topic": timeline.request.topic_text,
            "start": timeline.request.start, "end": timeline.request.end, "sources": len(timeline.sources),
            "events": [item(c, e) for c, e in pairs if e.when],
            "undated": [item(c, e) for c, e in pairs if not e.when],
            "gaps": [{"from": a, "to": b, "days": d} for a, b, d in timeline.gaps()]}
