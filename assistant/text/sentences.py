"""Sentence units: the citable pieces of a passage, shared by the verifier and the extractive answerer.

`split_sentences` returns character spans so that every quote we show is an exact substring of the passage.
Rules: a blank line always ends a unit; a single newline ends one unless the next line clearly continues the
sentence (previous line has no closing punctuation and the next starts lower-case, or the previous line is a
long hard-wrapped prose line); headings, "[timestamp]"
message lines, table rows, bullet and numbered-list markers are trimmed off the span; inside a line a unit ends at
. ! ? (plus closing quotes/brackets) followed by space and a capital, digit, quote or bracket, except after known
abbreviations ("Mr.", "No.", "approx."), single-letter initials ("J. Smith") and a list enumerator at the start of
a line. Times ("14:30") and decimals ("3.5") never split because no space follows the point.

Message passages (kind == "messages") carry per-message offsets in `meta["messages"]`; `passage_units` uses those,
so for messages a unit is one message's English text.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.text.messages import message_spans

Span = tuple[int, int]

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sgt insp supt ch pc dc ds di dci dsu det cst st rd ave vs etc approx est dept
    govt co ltd inc jr sr rev gen col capt lt maj cmdr fig figs vol ed eds al e.g i.e cf ref tel ext c ca
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues thu thur thurs fri""".split()
)
_BULLET = re.compile(r"[ \t]*(?:[-*•·‣▪◦–—]|\(?\d{1,3}[.)]|\([a-zA-Z]\)|[a-z][.)](?=\s))[ \t]+")
_TERMINAL = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_OPENER = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9£$€#@]")
WRAP_MIN = 50  # a line this long that stops mid-sentence is a hard wrap, whatever case the next line starts with
_LINE_END_PUNCT = re.compile(r"[.!?:;\"'”’)\]]\s*$")


def _line_spans(text: str) -> list[Span]:
    """Logical lines: physical lines joined when the next one continues a wrapped sentence."""
    spans: list[Span] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        start, end = pos, pos + len(line)
        pos += len(raw)
        if not line.strip():
            spans.append((start, start))  # paragraph break marker
            continue
        if spans and spans[-1][0] != spans[-1][1]:
            prev = text[spans[-1][0] : spans[-1][1]]
            stripped = line.lstrip()
            wrapped = len(prev) >= WRAP_MIN and "  " not in prev.strip() and not prev.lstrip().startswith(("#", "["))
            continues = (
                not _LINE_END_PUNCT.search(prev)
                and not _BULLET.match(line)
                and not stripped.startswith(("#", "["))
                and (stripped[:1].islower() or (wrapped and stripped[:1] not in "-*•"))
            )
            if continues:
                spans[-1] = (spans[-1][0], end)
                continue
        spans.append((start, end))
    return [s for s in spans if s[0] != s[1]]


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` closes an abbreviation or an initial rather than a sentence."""
    m = re.search(r"([A-Za-z][A-Za-z.]*)$", text[:dot])
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    if word in ("no", "nos"):  # "No. 5" but not "He said no. Then"
        return bool(re.match(r"\s*\d", text[dot + 1 : dot + 4]))
    if word in ABBREVIATIONS:
        return True
    if len(word) == 1 and m.group(1)[0].isupper():  # initial: "J. Smith"
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))  # "U.K", "e.g"


def _split_line(text: str, start: int, end: int) -> list[Span]:
    bullet = _BULLET.match(text, start, end)
    if bullet:
        start = bullet.end()
    out: list[Span] = []
    cur = start
    for m in _TERMINAL.finditer(text, start, end):
        stop = m.end()
        if not _OPENER.match(text, stop, end):
            continue
        if text[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(text, m.start()):
            continue
        out.append((cur, stop))
        cur = stop
    out.append((cur, end))
    return out


def _trim(text: str, span: Span) -> Span | None:
    s, e = span
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if e > s and any(ch.isalnum() for ch in text[s:e]) else None


def split_sentences(text: str) -> list[Span]:
    """Character spans of the sentence-like units of `text`, in order, whitespace-trimmed."""
    spans: list[Span] = []
    for line_start, line_end in _line_spans(text):
        for span in _split_line(text, line_start, line_end):
            trimmed = _trim(text, span)
            if trimmed:
                spans.append(trimmed)
    return spans


def passage_units(text: str, kind: str = "text", meta: dict[str, Any] | None = None) -> list[Span]:
    """Citable units of a passage: message texts for message chunks, sentences otherwise."""
    if kind == "messages" and meta:
        spans = [s for s in message_spans(meta) if 0 <= s[0] < s[1] <= len(text)]
        if spans:
            return spans
    return split_sentences(text)
