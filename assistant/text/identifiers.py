"""Identifier-like tokens of a text (numbers, dates, registrations, e-mails, handles, capitalised names), in a
normalised form so the verifier and the extractive answerer can compare a claim with a passage exactly:
"07700 900418" == "07700900418", "14/03/2023" == "14 March 2023"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text.lexicon import MONTHS, STOPWORDS
from assistant.text.phone import uk_national
from assistant.text.sentences import ABBREVIATIONS, Span

_MON = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
       r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE_PATTERNS = (
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MON})\b\.?,?(?:\s+(\d{{4}})\b)?", re.I), "dmy"),
    (re.compile(rf"\b({_MON})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?", re.I), "mdy"),
    (re.compile(rf"\b({_MON})\b\.?,?\s+(\d{{4}})\b", re.I), "my"),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "iso"),
    (re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b"), "num"),
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@.])@\w{2,}")
_UK_REG = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
_ATOM = r"[A-Za-z]*\d[A-Za-z\d]*(?:[.,:/]\d+)*"
_NUM_GROUP = re.compile(rf"(?<![\w.])\+?{_ATOM}(?:[ \-]{_ATOM})*")
_UNIT = re.compile(r"^(\d[\d.]*)(?:am|pm|kg|g|mg|km|m|mph|st|nd|rd|th|k|bn|s|h|hrs?|mins?|ml|l|lbs?)$", re.I)
_NAME = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _atom_key(atom: str) -> str:
    unit = _UNIT.match(atom)
    if unit:
        atom = unit.group(1)
    return re.sub(r"[,:/]", "", atom).rstrip(".").upper()


def _group_key(atoms: Sequence[str]) -> str:
    key = "".join(_atom_key(a) for a in atoms)
    return uk_national(key) if key.lstrip("+").isdigit() else key.lstrip("+")


def _date_key(kind: str, groups: tuple[str | None, ...]) -> tuple[int | None, int, int | None] | None:
    try:
        if kind == "dmy":
            day, mon, year = int(groups[0] or 0), MONTHS[(groups[1] or "")[:3].lower()], groups[2]
        elif kind == "mdy":
            mon, day, year = MONTHS[(groups[0] or "")[:3].lower()], int(groups[1] or 0), groups[2]
        elif kind == "my":
            mon, day, year = MONTHS[(groups[0] or "")[:3].lower()], 0, groups[1]
        elif kind == "iso":
            year, mon, day = groups[0], int(groups[1] or 0), int(groups[2] or 0)
        else:  # UK numeric d/m/y
            day, mon, year = int(groups[0] or 0), int(groups[1] or 0), groups[2]
            if year and len(year) == 2:
                year = str(2000 + int(year) if int(year) < 50 else 1900 + int(year))
    except (KeyError, ValueError):
        return None
    if not 1 <= mon <= 12 or day > 31:
        return None
    return (int(year) if year else None, mon, day or None)


DateKey = tuple[int | None, int, int | None]


@dataclass(frozen=True)
class Identifiers:
    """Identifier-like tokens of a text, normalised for comparison.

    numbers: digit-bearing groups, separators removed ("07700 900418" -> "07700900418", "+44 7700..." -> "07700...");
    dates: (year|None, month, day|None); regs: UK registrations without spaces; emails/handles lower-cased;
    names: capitalised words lower-cased (the sentence-initial word goes to `initial`, since capitals there say
    nothing)."""

    numbers: frozenset[str]
    dates: frozenset[DateKey]
    regs: frozenset[str]
    emails: frozenset[str]
    handles: frozenset[str]
    names: frozenset[str]
    initial: str = ""
    phrases: frozenset[str] = frozenset()  # runs of 2+ capitalised words, e.g. "two dollar radio"
    initial_phrase: str = ""  # the run that starts the text, when its first word is itself a name

    def count(self) -> int:
        return sum(len(x) for x in (self.numbers, self.dates, self.regs, self.emails, self.handles, self.names))


def _mask(text: str, spans: list[Span]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)


def extract_identifiers(text: str, *, subgroups: bool = False) -> Identifiers:
    """Identifiers of `text`. With `subgroups` (used on evidence) every contiguous run of a number group is also
    listed, so "call 07700 900418 2" still contains "07700900418"."""
    masked = text
    emails = {m.group(0).lower() for m in _EMAIL.finditer(masked)}
    masked = _mask(masked, [m.span() for m in _EMAIL.finditer(masked)])
    handles = {m.group(0).lower() for m in _HANDLE.finditer(masked)}
    masked = _mask(masked, [m.span() for m in _HANDLE.finditer(masked)])
    regs = {m.group(0).replace(" ", "") for m in _UK_REG.finditer(masked)}
    masked = _mask(masked, [m.span() for m in _UK_REG.finditer(masked)])
    dates: set[DateKey] = set()
    for pattern, kind in _DATE_PATTERNS:
        spans = []
        for m in pattern.finditer(masked):
            key = _date_key(kind, m.groups())
            if key is not None:
                dates.add(key)
                spans.append(m.span())
        masked = _mask(masked, spans)
    numbers: set[str] = set()
    for m in _NUM_GROUP.finditer(re.sub(r"\((\d+)\)", r"\1", masked)):  # "(01632) 960123"
        atoms = re.split(r"[ \-]", m.group(0))
        if subgroups:
            for i in range(len(atoms)):
                for j in range(i + 1, len(atoms) + 1):
                    numbers.add(_group_key(atoms[i:j]))
        else:
            numbers.add(_group_key(atoms))
    names: set[str] = set()
    initial = ""
    runs: list[tuple[list[str], bool]] = []  # (lower-cased words, starts a sentence)
    prev_end = -1
    for i, m in enumerate(_NAME.finditer(masked)):
        word = m.group(0).replace("’", "'")
        possessive = word.lower().endswith("'s")
        word = word[:-2] if possessive else word
        low = word.lower()
        if not word[:1].isupper() or low in STOPWORDS or low in ABBREVIATIONS or len(word) < 2:
            prev_end = -1
            continue
        at_start = i == 0 or bool(re.search(r"(?:^|[.!?:;\"“(]\s*|\n\s*)$", masked[: m.start()]))
        if at_start and i == 0:
            initial = low
        elif not at_start:
            names.add(low)
        if prev_end >= 0 and masked[prev_end : m.start()] == " ":
            runs[-1][0].append(low)
        else:
            runs.append(([low], at_start))
        prev_end = -1 if possessive else m.end()
    phrases = {" ".join(r[1:] if start else r) for r, start in runs if len(r) - int(start) >= 2}
    initial_phrase = " ".join(runs[0][0]) if runs and runs[0][1] and initial and len(runs[0][0]) >= 2 else ""
    return Identifiers(frozenset(numbers), frozenset(dates), frozenset(regs), frozenset(emails),
                       frozenset(handles), frozenset(names), initial, frozenset(phrases), initial_phrase)
