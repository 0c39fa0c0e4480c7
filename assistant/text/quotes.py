"""Where a quote stands in a passage, and the line around an offset."""

from __future__ import annotations

import re

Span = tuple[int, int]

_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})


def line_span(text: str, start: int, end: int, *, trim: bool = True) -> Span:
    """The line(s) of `text` holding [start, end): from after the previous newline to the next newline at or after
    the span's last character, trailing whitespace trimmed unless `trim` is False."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", max(start, end - 1))
    line_end = len(text) if line_end < 0 else max(line_end, end)
    while trim and line_end > line_start and text[line_end - 1].isspace():
        line_end -= 1
    return line_start, line_end


def _normalise(text: str) -> tuple[str, list[int]]:
    """Case-folded text with quotes/dashes unified, whitespace collapsed and no space before punctuation, plus the
    original offset of every kept character."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text.translate(_QUOTE_CHARS)):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                index.append(i)
            continue
        if ch in ",.;:!?)" and out and out[-1] == " ":
            out.pop()
            index.pop()
        if out and out[-1] == " " and len(out) > 1 and out[-2] == "(":
            out.pop()
            index.pop()
        out.append(ch.lower())
        index.append(i)
    return "".join(out), index


def locate_quote(text: str, quote: str, hint: int = -1) -> Span | None:
    """Span of `quote` in `text`: at `hint` when the quote stands there letter for letter, else found normalised
    for case, whitespace and quote style, where an ellipsis in the quote may skip passage text. The returned span
    is the exact passage substring to show."""
    if hint >= 0 and quote and text[hint : hint + len(quote)] == quote:
        return hint, hint + len(quote)
    pieces = [p for p in re.split(r"\.\.\.|…", quote) if p.strip(" \"'.,;:")]
    if not pieces:
        return None
    norm, index = _normalise(text)
    start = end = -1
    pos = 0
    for piece in pieces:
        q, _ = _normalise(piece.strip(" \"'"))
        q = q.strip(" ")
        if len(q) < 3:
            return None
        at = norm.find(q, pos)
        if at < 0:
            return None
        if start < 0:
            start = index[at]
        end = index[at + len(q) - 1] + 1
        pos = at + len(q)
    return (start, end) if start >= 0 else None
