"""Sentence units and the small lexical features shared by the verifier and the extractive answerer.

`split_sentences` returns character spans so that every quote we show is an exact substring of the passage.
Rules: a blank line always ends a unit; a single newline ends one unless the next line clearly continues the
sentence (previous line has no closing punctuation and the next starts lower-case, or the previous line is a
long hard-wrapped prose line, but not prose after a form's "Label: value" line); headings, "[timestamp]"
message lines, table rows, bullet and numbered-list markers are trimmed off the span; inside a line a unit ends at
. ! ? (plus closing quotes/brackets) followed by space and a capital, digit, quote or bracket, except after known
abbreviations ("Mr.", "No.", "approx."), single-letter initials ("J. Smith") and a list enumerator at the start of
a line. Times ("14:30") and decimals ("3.5") never split because no space follows the point.

Message passages (kind == "messages") carry per-message offsets in `meta["messages"]`; `passage_units` uses those,
so for messages a unit is one message's English text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

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
_FIELD = re.compile(r"[A-Z][\w ’'/()&.-]{0,60}?:[ \t]+\S")  # "Google account signed in on the device: m.w@x.com"


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
            last = prev.rsplit("\n", 1)[-1].lstrip()
            # prose after a form's "Label: value" lines starts a new unit (fields of one record stay together)
            after_form = bool(_FIELD.match(last)) and not _FIELD.match(stripped) and stripped[:1].isupper()
            continues = (
                not after_form
                and not _LINE_END_PUNCT.search(prev)
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


def message_records(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-message records of a message chunk's meta (`meta["messages"]`), [] when absent or malformed."""
    raw = meta.get("messages")
    if not isinstance(raw, str):
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def message_spans(meta: dict[str, Any]) -> list[Span]:
    """Per-message (start, end) offsets from a message chunk's meta, [] when absent or malformed."""
    spans: list[Span] = []
    for item in message_records(meta):
        start, end = item.get("start"), item.get("end")
        if isinstance(start, int) and isinstance(end, int) and end > start:
            spans.append((start, end))
    return spans


def passage_units(text: str, kind: str = "text", meta: dict[str, Any] | None = None) -> list[Span]:
    """Citable units of a passage: message texts for message chunks, sentences otherwise."""
    if kind == "messages" and meta:
        spans = [s for s in message_spans(meta) if 0 <= s[0] < s[1] <= len(text)]
        if spans:
            return spans
    return split_sentences(text)


# ---------------------------------------------------------------- lexical features

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else ever few for from further had
    has have having he her here hers herself him himself his how however i if in into is it its itself just
    let me more most much must my myself neither nor of off on once only or other our ours ourselves out over
    own per same shall she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up upon us very via was we were what when where which while who
    whom whose why will with within without would yes you your yours yourself yourselves according among
    another around away back based being may might like one ones said says say since still thus therefore
    whether yet well also even though although whereas later earlier first""".split()
)
NEGATIONS = frozenset("not no never none nothing nobody neither nor without cannot n't denied denies deny".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover - PyStemmer is pinned in requirements
        return None


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    st = _stemmer()
    if st is not None:
        return str(st.stemWord(word))
    return re.sub(r"(?:ing|ed|es|s)$", "", word) if len(word) > 4 else word


def words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words (stopwords and 1-2 letter words removed), in order, with repeats."""
    out: list[str] = []
    for w in words(text):
        low = w.lower()
        if low.endswith("'s"):
            low = low[:-2]
        if len(low) < 3 or low in STOPWORDS:
            continue
        out.append(SAME_AS.get(low) or stem(low))
    return out


# irregular forms no stemmer joins, common in statements and records: "born on 17/06/2007" is a date of birth
SAME_AS = {"born": "birth", "dob": "birth"}


def has_negation(text: str) -> bool:
    """A negation word or "n't". A capitalised one followed by another capitalised word is a title
    ("Never Cry Wolf"), not a negation."""
    text = text.replace("’", "'")
    if "n't" in text.lower():
        return True
    found = list(_WORD.finditer(text))
    for k, m in enumerate(found):
        word = m.group(0)
        if word.lower() not in NEGATIONS:
            continue
        following = found[k + 1].group(0) if k + 1 < len(found) else ""
        if word.islower() or not following[:1].isupper():
            return True
    return False


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:instructions?|prompts?|rules?|context|above)\b"
    r"|\b(?:system prompt|you are now|act as|pretend to be|new instructions?)\b"
    r"|\b(?:assistant|ai|model|chatbot|language model)\b[^.\n]{0,30}\b(?:must|should|will)\b[^.\n]{0,20}"
    r"\b(?:say|answer|respond|reply|state)\b",
    re.IGNORECASE,
)


def is_instruction_like(text: str) -> bool:
    """Text addressed to an AI rather than a statement of fact (prompt injection); never used as evidence."""
    return bool(_INSTRUCTION.search(text))


def join_spans(text: str, spans: Sequence[Span]) -> str:
    return " ".join(text[s:e] for s, e in spans)


# ---------------------------------------------------------------- verbatim quotes

_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})


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


def locate_quote(text: str, quote: str) -> Span | None:
    """Span of `quote` in `text`, normalised for case, whitespace and quote style; an ellipsis in the quote may
    skip passage text. The returned span is the exact passage substring to show."""
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
