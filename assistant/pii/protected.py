"""Protected persons of a case (victims, child witnesses) and where their identifiers occur in any text.

A case's protected persons are kept in `<index_dir>/protected/<case>.json` (0600). Matching is deliberately broad,
because a miss leaks a protected identity while an extra mask only costs readability:
- names and aliases: each word of three letters or more, case-insensitive and diacritic-free, with its stem followed
  by common Polish/Romanian/English endings (Kacper, Kacpra, Kacprem, Kacprowi; Zielinski, Zielinska, Zielinskiego);
- phones: any digit run whose last ten digits equal the number's (07700 900418, +44 7700 900418, 07700-900-418);
- dates of birth: numeric (17/06/2007, 17.6.07, 2007-06-17) and written (17 June 2007, June 17th, 2007);
- addresses and handles: the text itself, case-, space- and punctuation-insensitive, `@` optional for handles.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.perms import private_dir, write_private_text
from assistant.types import Entity

KINDS = ("names", "aliases", "phones", "addresses", "dobs", "handles")
# Case endings added to a name's stem (the name minus a final vowel). Polish: Kacpra, Kacprem, Kacprowi, Kacprze,
# Kacprowie, Zielinskiego, Zielinskiemu, Zielinskim; Romanian: Ionut, Ionutului, Mariei, Mariana; English 's.
_ENDINGS = ("a", "e", "i", "o", "u", "y", "em", "ie", "ze", "ce", "owi", "ow", "om", "ach", "ami", "owie", "iego",
            "iemu", "im", "ich", "ej", "a", "ul", "ului", "ei", "ii", "lui", "ek", "ka", "ki", "ko")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_SEP = r"[ \t.\-]{0,2}"
_PHONE_PREFIX = rf"(?:(?:\+|00)\s?\d{{1,3}}[ \t.\-()]{{0,3}}\(?0?\)?{_SEP}|\(?0\)?{_SEP})?"
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "s", "ı": "i"})


class ProtectedError(AssistantError):
    """A protected-persons file that cannot be read or a person without any identifier."""


@dataclass(frozen=True)
class ProtectedPerson:
    names: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    dobs: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object, where: str) -> ProtectedPerson:
        if not isinstance(data, dict) or set(data) - set(KINDS):
            raise ProtectedError(f"{where}: a protected person is an object with keys among {', '.join(KINDS)}")
        values: dict[str, tuple[str, ...]] = {}
        for kind in KINDS:
            raw = data.get(kind, [])
            if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                raise ProtectedError(f"{where}: {kind!r} must be a list of strings")
            values[kind] = tuple(v.strip() for v in raw if v.strip())
        person = cls(**values)
        if not any(values.values()):
            raise ProtectedError(f"{where}: a protected person needs at least one identifier")
        for d in person.dobs:
            parse_dob(d, where)
        return person

    def merged(self, other: ProtectedPerson) -> ProtectedPerson:
        return ProtectedPerson(**{k: tuple(dict.fromkeys(getattr(self, k) + getattr(other, k))) for k in KINDS})


def fold(text: str) -> str:
    """Lower-case, diacritics removed, one character per character (offsets into `fold(t)` are offsets into t)."""
    out = []
    for ch in text.translate(_FOLD):
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else base)
    return "".join(out)


def parse_dob(value: str, where: str = "date of birth") -> date:
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})|(\d{4})-(\d{2})-(\d{2})", value.strip())
    try:
        if m and m.group(1):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m:
            return date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
    except ValueError:
        pass
    raise ProtectedError(f"{where}: date of birth {value!r} is not DD/MM/YYYY or YYYY-MM-DD")


def _name_pattern(word: str) -> str:
    stem = word[:-1] if len(word) > 4 and word[-1] in "aeiouy" else word
    dropped_e = len(stem) > 4 and stem.endswith("er")  # Kacper -> Kacpr-a, Kacpr-em (the e drops before an ending)
    stem_alt = re.escape(stem[:-2]) + "e?r" if dropped_e else re.escape(stem)
    endings = "|".join(sorted(set(_ENDINGS), key=len, reverse=True))
    return rf"{stem_alt}(?:{endings})?(?:'s|s)?"


def _dob_patterns(d: date) -> list[str]:
    day, mon, yr = d.day, d.month, d.year
    sep = r"\s*[/.\-]\s*"
    month = _MONTHS[mon - 1]
    name = rf"(?:{month}|{month[:3]}\.?)"
    ords = r"(?:st|nd|rd|th)?"
    years = rf"(?:{yr}|{yr % 100:02d})"
    return [rf"0?{day}{sep}0?{mon}{sep}{years}", rf"{yr}{sep}0?{mon}{sep}0?{day}",
            rf"0?{day}{ords}\s+(?:of\s+)?{name},?\s+{yr}", rf"{name}\s+0?{day}{ords},?\s+{yr}"]


def _loose(text: str) -> str:
    """A literal as a pattern that tolerates any run of spaces/punctuation where the literal has one."""
    parts = [re.escape(p) for p in re.split(r"[\s,.;:\-]+", fold(text)) if p]
    return r"[\s,.;:\-]+".join(parts)


@dataclass
class ProtectedSet:
    """The protected persons of one case, compiled for matching."""

    persons: tuple[ProtectedPerson, ...] = ()
    _patterns: list[tuple[re.Pattern[str], int, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for k, p in enumerate(self.persons, start=1):
            words = {w for n in p.names + p.aliases for w in re.findall(r"[^\W\d_]{3,}", fold(n))}
            for w in sorted(words, key=len, reverse=True):
                self._add(rf"(?<![^\W_]){_name_pattern(w)}(?![^\W_])", k, "NAME")
            for a in p.addresses:
                self._add(rf"(?<![^\W_]){_loose(a)}(?![^\W_])", k, "ADDRESS")
            for h in p.handles:
                self._add(rf"(?<![\w.])@?{re.escape(fold(h).lstrip('@'))}(?![\w])", k, "HANDLE")
            for d in p.dobs:
                for pat in _dob_patterns(parse_dob(d)):
                    self._add(rf"(?<!\d){pat}(?!\d)", k, "DOB")
            for ph in p.phones:
                if len(digits := re.sub(r"\D", "", ph)[-10:]) >= 7:  # any prefix (+44, 0044, 0), any separators
                    body = r"[ \t.\-()]{0,2}".join(digits[1:] if len(digits) == 10 and digits[0] == "0" else digits)
                    self._add(rf"(?<![\d+]){_PHONE_PREFIX}{body}(?!\d)", k, "PHONE")

    def _add(self, pattern: str, k: int, kind: str) -> None:
        self._patterns.append((re.compile(pattern), k, kind))

    def __bool__(self) -> bool:
        return bool(self.persons)

    def find(self, text: str) -> list[Entity]:
        """Spans of protected identifiers in `text` (non-overlapping, leftmost-longest), typed PROTECTED_<k>_<KIND>."""
        if not self.persons or not text:
            return []
        folded = fold(text)
        hits: list[tuple[int, int, int, str]] = []
        for pattern, k, kind in self._patterns:
            hits += [(m.start(), m.end(), k, kind) for m in pattern.finditer(folded) if m.end() > m.start()]
        out: list[Entity] = []
        end = -1
        for s, e, k, kind in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
            if s >= end:
                out.append(Entity(f"PROTECTED_{k}_{kind}", s, e, text[s:e], 1.0))
                end = e
        return out

    def sub(self, text: str) -> str:
        """`text` with every protected identifier replaced by its placeholder."""
        for ent in reversed(self.find(text)):
            text = text[:ent.start] + f"<{ent.type}>" + text[ent.end:]
        return text



def _path(index_dir: Path, case: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}", case):
        raise ProtectedError(f"case id {case!r}: letters, digits, '_', '.', '-' only")
    return index_dir / "protected" / f"{case}.json"


def load_persons(index_dir: Path, case: str) -> tuple[ProtectedPerson, ...]:
    path = _path(index_dir, case)
    if not path.exists():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProtectedError(f"{path}: unreadable protected-persons file ({exc.__class__.__name__})") from exc
    return read_persons(data, str(path))


def read_persons(data: object, where: str) -> tuple[ProtectedPerson, ...]:
    items = data.get("protected", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ProtectedError(f"{where}: expected a list of protected persons (or {{'protected': [...]}})")
    return tuple(ProtectedPerson.from_json(p, f"{where} #{i + 1}") for i, p in enumerate(items))


def read_persons_file(path: Path) -> tuple[ProtectedPerson, ...]:
    try:
        return read_persons(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError) as exc:
        raise ProtectedError(f"{path}: cannot read protected persons ({exc.__class__.__name__})") from exc


def add_persons(index_dir: Path, case: str, new: Iterable[ProtectedPerson]) -> tuple[ProtectedPerson, ...]:
    """Add persons to the case's list; one sharing a name or alias with a listed person is merged into it."""
    persons = list(load_persons(index_dir, case))
    for person in new:
        keys = {fold(n) for n in person.names + person.aliases}
        same = next((i for i, p in enumerate(persons) if keys & {fold(n) for n in p.names + p.aliases}), None)
        if same is None:
            persons.append(person)
        else:
            persons[same] = persons[same].merged(person)
    private_dir(index_dir / "protected")
    write_private_text(_path(index_dir, case), json.dumps({"protected": [asdict(p) for p in persons]}, indent=1))
    return tuple(persons)


def protect(index_dir: Path, audit: Any, user: str, case: str, persons: tuple[ProtectedPerson, ...], via: str) -> int:
    """Add `persons` to the case (merging by shared name) and record it in `audit` (an AuditLog) with counts and a
    hash of the names, never the identifiers; returns how many protected persons the case has."""
    stored = add_persons(index_dir, case, persons)
    digest = hashlib.sha256(json.dumps([sorted(p.names) for p in stored]).encode()).hexdigest()[:16]
    audit.append("protect", user, case, {"added": len(persons), "total": len(stored), "via": via,
                                         "names_sha256": digest})
    return len(stored)


def protected_set(index_dir: Path, case: str) -> ProtectedSet:
    return ProtectedSet(load_persons(index_dir, case)) if case else ProtectedSet()
