"""An extractive, cited digest of one person over every passage that names them (not the top 8): identity and
aliases, numbers and devices, vehicles, then events in time order; every line is a verbatim sentence or message
with its citation, and what was looked for and not found is said ("no date of birth found in 5 sources")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from assistant.conversation.digest_request import DigestRequest
from assistant.links.dates import find_dates
from assistant.text.messages import message_records
from assistant.text.sentences import split_sentences
from assistant.types import Answer, Citation, Passage

GROUPS = ("Identity and aliases", "Numbers and devices", "Vehicles", "Events in time order")
CAPS = {"Identity and aliases": 6, "Numbers and devices": 6, "Vehicles": 6, "Events in time order": 20}
_IDENTITY = re.compile(r"\b(born|date of birth|dob|aged|years? old|nationality|also known as|known as|alias|a\.?k\.?a"
                       r"|nickname|lives at|address|resides|described as)\b", re.I)
_BIRTH = re.compile(r"\b(born|date of birth|dob)\b", re.I)
_NUMBER = re.compile(r"(?<!\d)(?:\+44\s?7\d{3}|07\d{3})\s?\d{3}\s?\d{3}(?!\d)|\b\d{15}\b|\b(imei|handset|sim cards?|"
                     r"mobile number|phone number)\b", re.I)
_VEHICLE = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b|\b(car|vehicle|van|drives|driving|registration)\b", re.I)
_ALIAS = re.compile(r"\b(?:also known as|known as|aka|a\.k\.a\.|alias|nicknamed)\s+[\"“']?([A-Z][\w'-]+)")
_COMMON = frozenset("the and mr mrs ms miss dr".split())


@dataclass
class _Line:
    group: str
    passage: Passage
    start: int
    end: int
    sort: str = ""  # ISO date(time) for events
    label: str = ""


@dataclass
class Digest:
    lines: list[_Line] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    outside: int = 0  # dated lines outside the asked period


def name_terms(person: str) -> list[str]:
    return [w.lower() for w in person.split() if len(w) >= 3 and w.lower() not in _COMMON]


def _mentions(text: str, terms: Iterable[str]) -> bool:
    low = text.lower()
    return any(re.search(rf"\b{re.escape(t)}\b", low) for t in terms)


def _classify(sentence: str) -> str:
    if _IDENTITY.search(sentence):
        return GROUPS[0]
    if _VEHICLE.search(sentence):
        return GROUPS[2]
    if _NUMBER.search(sentence):
        return GROUPS[1]
    return ""


def collect(passages: Iterable[Passage], request: DigestRequest) -> Digest:
    """Every sentence or message of `passages` that names the person (or an alias a matching passage declares)."""
    terms = name_terms(request.person)
    pool = [p for p in passages if _mentions(p.text, terms) or _mentions(str(p.meta.get("senders", "")), terms)]
    for p in pool:  # aliases declared next to the name ("WOLSKI, also known as 'Mac'")
        for s, e in split_sentences(p.text):
            if _mentions(p.text[s:e], terms):
                terms += [a.lower() for a in _ALIAS.findall(p.text[s:e]) if a.lower() not in terms]
    digest = Digest()
    seen: list[str] = []
    for p in pool:
        units = _message_units(p, terms) if p.kind == "messages" else _prose_units(p, terms)
        for line in units:
            key = re.sub(r"\W+", " ", line.passage.text[line.start:line.end].lower()).strip()
            if any(key in k or k in key for k in seen):  # overlapping chunks repeat (parts of) sentences
                continue
            seen.append(key)
            digest.sources.add(p.source)
            if line.group == GROUPS[3] and not _in_period(line.sort, request):
                digest.outside += 1
                continue
            if request.start and line.group != GROUPS[3]:
                continue  # a period was asked: what happened in it
            digest.lines.append(line)
    return digest


def _in_period(day: str, request: DigestRequest) -> bool:
    return (not request.start or day[:10] >= request.start) and (not request.end or day[:10] <= request.end)


def _prose_units(p: Passage, terms: list[str]) -> list[_Line]:
    out = []
    for s, e in split_sentences(p.text):
        sentence = p.text[s:e]
        if not _mentions(sentence, terms):
            continue
        dates = find_dates(sentence)
        if dates:
            hit = dates[0]
            when = hit.day.isoformat() + (f" {hit.time}" if hit.time else "")
            out.append(_Line(GROUPS[3], p, s, e, when, when))
        elif group := _classify(sentence):
            out.append(_Line(group, p, s, e))
    return out


def _message_units(p: Passage, terms: list[str]) -> list[_Line]:
    out = []
    for m in message_records(p.meta):
        if m.span is None or p.text[m.start:m.end] != m.english or not m.english.strip():
            continue
        if not (_mentions(m.sender, terms) or _mentions(m.english, terms)):
            continue  # what the person wrote, or a message about them (not everything sent to their phone)
        label = f"{m.timestamp[:16].replace('T', ' ')} {m.sender} → {m.recipient}".strip()
        out.append(_Line(GROUPS[3], p, m.start, m.end, m.timestamp, label))
    return out


def digest_answer(question: str, case: str, request: DigestRequest, passages: Iterable[Passage]) -> Answer:
    """The digest as an Answer: grouped lines, each ending in its [n]; gaps stated; no_evidence when no passage
    names the person."""
    digest = collect(passages, request)
    n_sources = len(digest.sources)
    scope = f" in {request.period}" if request.period else ""
    if not digest.lines and not n_sources:
        return Answer(question, case, "no_evidence", f"Not found in the case material: no passage names "
                      f"{request.person}.", "extractive-digest")
    citations: list[Citation] = []
    retrieved: dict[str, Passage] = {}
    parts: list[str] = []
    for group in GROUPS:
        lines = [ln for ln in digest.lines if ln.group == group]
        if group == GROUPS[3]:
            lines.sort(key=lambda ln: ln.sort)
        if not lines:
            continue
        parts.append(f"{chr(10) if parts else ''}{group}:")
        for ln in lines[:CAPS[group]]:
            quote = ln.passage.text[ln.start:ln.end]
            n = len(citations) + 1
            citations.append(Citation(n, ln.passage.chunk_id, ln.passage.source, ln.passage.locator, quote,
                                      ln.passage.text, True, ln.start))
            retrieved.setdefault(ln.passage.chunk_id, ln.passage)
            parts.append(f"- {ln.label + ': ' if ln.label else ''}{' '.join(quote.split())} [{n}]")
        if len(lines) > CAPS[group]:
            parts.append(f"- … and {len(lines) - CAPS[group]} more (ask about a shorter period or one topic)")
    parts.append("\nNot found:" if _gaps(digest, request) else "")
    parts += [f"- {gap} in {n_sources} source(s) naming {request.person}{scope}" for gap in _gaps(digest, request)]
    if digest.outside and request.start:
        parts.append(f"\n({digest.outside} dated item(s) about {request.person} fall outside {request.period}.)")
    note = (f"Extractive digest over every passage naming {request.person} ({n_sources} source(s)), not only the "
            "top-ranked ones; every line is quoted verbatim from its cited passage.")
    return Answer(question, case, "answered", "\n".join(p for p in parts if p), "extractive-digest",
                  tuple(citations), tuple(retrieved.values()), notes=(note,))


def _gaps(digest: Digest, request: DigestRequest) -> list[str]:
    groups = {ln.group for ln in digest.lines}
    if request.start:
        return [] if GROUPS[3] in groups else ["no dated event found"]
    quotes = [ln.passage.text[ln.start:ln.end] for ln in digest.lines if ln.group == GROUPS[0]]
    gaps = [] if any(_BIRTH.search(q) for q in quotes) else ["no date of birth found"]
    gaps += [] if GROUPS[1] in groups else ["no phone number or device found"]
    gaps += [] if GROUPS[2] in groups else ["no vehicle found"]
    return gaps + ([] if GROUPS[3] in groups else ["no dated event found"])
