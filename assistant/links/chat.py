"""Cross-case questions in the chat, answered from the identifier index instead of one case's retrieval.

Detected generally: an identifier in the question (or "linked to <Name>") plus a cross-case cue ("other cases",
"anywhere", "elsewhere", "any case", "linked to", "connected to"); or a request for a timeline/chronology ("...of
contact between X and Y"). The answer cites the passages the user may open; other cases are named with who to ask;
a value found nowhere is a negative assurance ("no mention in N sources of M cases, indexed up to T"), audited by
the look-up itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.links.identifiers import NAME, extract, normalize_name
from assistant.links.lookup import EXISTENCE, LinkResult
from assistant.text.quotes import locate_quote
from assistant.types import Answer, Citation

if TYPE_CHECKING:
    from assistant.links.ports import LinksApp

BACKEND = "links-index"
MAX_LINES = 60  # timeline lines shown in one chat answer; the CLI/JSON timeline has them all
_CROSS_CASE = re.compile(r"\b(?:other|another|any|all|every|previous|older)\s+(?:\w+\s+)?cases?\b|\banywhere\b"
                         r"|\belsewhere\b|\bacross\s+(?:all\s+)?(?:the\s+)?cases\b|\b(?:linked|connected)\s+(?:to|with)\b",
                         re.I)
_WHO = re.compile(r"^\s*who\b", re.I)
_LINKED_NAME = re.compile(r"\b(?:linked|connected)\s+(?:to|with)\s+([A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){1,2})")
_TIMELINE = re.compile(r"\b(?:timeline|chronology|sequence of events)\b", re.I)
_BETWEEN = re.compile(r"\bbetween\s+(.+?)\s+and\s+(.+?)\s*[?.!]*$", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+)*")


@dataclass(frozen=True)
class Intent:
    kind: str  # "links" or "timeline"
    value: str = ""
    about: tuple[str, ...] = ()


def detect(question: str) -> Intent | None:
    q = question.strip()
    if _TIMELINE.search(q):
        between = _BETWEEN.search(q)
        if between:
            return Intent("timeline", about=(between.group(1).strip(), between.group(2).strip()))
        rest = q[_TIMELINE.search(q).end():]  # type: ignore[union-attr]
        ids = [rest[f.start:f.end] for f in extract(rest)]
        names = _CAPITALISED.findall(rest)
        return Intent("timeline", about=tuple(ids or names[:1]))
    if not _CROSS_CASE.search(q):
        return None
    found = extract(q)
    if found:
        return Intent("links", value=q[found[0].start:found[0].end])
    named = _LINKED_NAME.search(q)
    return Intent("links", value=named.group(1)) if named else None


def _cite(app: LinksApp, n: int, case: str, chunk_id: str, want: str, kind: str) -> Citation | None:
    passage = app.get_chunk(case, chunk_id)
    if passage is None:
        return None
    quote, start = "", -1
    if kind == NAME:
        span = locate_quote(passage.text, want)
        if span:
            quote, start = passage.text[span[0]:span[1]], span[0]
    else:
        hit = next((f for f in extract(passage.text) if f.value == want), None)
        if hit:
            quote, start = passage.text[hit.start:hit.end], hit.start
    return Citation(n, chunk_id, passage.source, passage.locator, quote, passage.text, bool(quote), start,
                    note=f"case {case}")


def links_answer(app: LinksApp, question: str, case: str, user: str | None, value: str) -> Answer:
    result: LinkResult = app.links.lookup(value, user=user)
    if not result.cases:
        text = f"{value} ({result.normalized}): {result.negative_assurance()}."
        return Answer(question, case, "no_evidence", text, BACKEND, notes=(result.negative_assurance(),))
    citations: list[Citation] = []
    lines = [f"{value} ({result.type} {result.normalized}) is mentioned in {len(result.cases)} case(s):"]
    for hit in result.cases:
        if hit.access == EXISTENCE:
            lines.append(f"- case {hit.case}: {hit.mentions} mention(s); you are not assigned to it, ask "
                         f"{', '.join(hit.contacts)}.")
            continue
        marks = []
        for m in hit.sources:
            want = m.value if m.type != NAME else normalize_name(value)
            cite = _cite(app, len(citations) + 1, hit.case, m.chunk_id, want, m.type)
            if cite is not None:
                citations.append(cite)
                marks.append(f"[{cite.n}]")
        here = " (this case)" if hit.case == case else ""
        lines.append(f"- case {hit.case}{here}: {hit.mentions} mention(s) {' '.join(marks)}".rstrip())
    if _WHO.search(question):
        lines.extend(_people(app, result, citations))
    return Answer(question, case, "answered", "\n".join(lines), BACKEND, citations=tuple(citations))


def _people(app: LinksApp, result: LinkResult, citations: list[Citation]) -> list[str]:
    """Names written in the same passages as the value (the passages the user may open), nearest first, each with
    its citations."""
    marks: dict[str, list[int]] = {}
    nearest: dict[str, int] = {}
    searched = set(result.values)
    for hit in result.cases:
        if hit.access == EXISTENCE:
            continue
        by_chunk = app.link_store.values_in_chunks(hit.case, [m.chunk_id for m in hit.sources])
        for c in citations:
            for value, kind in by_chunk.get(c.chunk_id, []):
                if kind != NAME or value in searched or c.n in marks.get(value, []):
                    continue
                marks.setdefault(value, []).append(c.n)
                rx = re.compile(rf"\b{re.escape(value.split()[-1])}\b", re.I)  # the surname alone counts too
                spots = [f.start for f in extract(c.text) if f.value in searched] or [c.quote_start]
                gaps = [abs(m.start() - p) for m in rx.finditer(c.text) for p in spots if p >= 0]
                nearest[value] = min([nearest.get(value, 10**6), *gaps])
    if not marks:
        return ["No person is named in those passages."]
    ranked = sorted(marks, key=lambda name: (nearest.get(name, 10**6), name))
    return ["Named in the same passages (nearest first): " + "; ".join(
        f"{name.title()} {' '.join(f'[{n}]' for n in marks[name])}" for name in ranked)]


def timeline_answer(app: LinksApp, question: str, case: str, about: tuple[str, ...]) -> Answer:
    from assistant.links.timeline import case_timeline

    events = case_timeline(app, case, about=" ".join(about))
    if len(about) == 2:  # contact between two people: a message counts only when they are its two ends
        ends = [a.lower() for a in about]
        events = [e for e in events if e.kind != "message"
                  or all(re.search(rf"\b{re.escape(a)}\b", e.text.split(": ", 1)[0].lower()) for a in ends)]
    if not events:
        return Answer(question, case, "no_evidence", "No dated event in the case material matches.", BACKEND)
    lines: list[str] = []
    citations: list[Citation] = []
    for e in events[:MAX_LINES]:
        passage = app.get_chunk(case, e.citation.chunk_id)
        if passage is None:
            continue
        span = e.span if 0 <= e.span[0] < e.span[1] <= len(passage.text) else locate_quote(passage.text, e.text)
        quote = passage.text[span[0]:span[1]] if span else ""
        n = len(citations) + 1
        citations.append(Citation(n, e.citation.chunk_id, e.citation.source, e.citation.locator, quote,
                                  passage.text, bool(span), span[0] if span else -1))
        lines.append(f"{e.timestamp} {e.text} [{n}]")
    notes = (f"showing the first {MAX_LINES} of {len(events)} events",) if len(events) > MAX_LINES else ()
    return Answer(question, case, "answered", "\n".join(lines), BACKEND, citations=tuple(citations), notes=notes)


def answer(app: LinksApp, case: str, question: str, user: str) -> Answer | None:
    """The links/timeline answer to a cross-case or chronology question, or None for an ordinary question.
    `user` is held to the case assignments when it is a known user (the CLI's default "cli" is the operator)."""
    intent = detect(question)
    if intent is None:
        return None
    if intent.kind == "timeline":
        return timeline_answer(app, question, case, intent.about)
    known = app.links.users.get(user) is not None
    return links_answer(app, question, case, user if known else None, intent.value)
