"""Protected persons of a case (victims, child witnesses) and where their identifiers occur in any text.

A case's protected persons are kept in `<index_dir>/protected/<case>.json` (0600). Matching is deliberately broad,
because a miss leaks a protected identity while an extra mask only costs readability:
- names and aliases: each word of three letters or more, case-insensitive and diacritic-free, with its stem followed
  by common Polish/Romanian/English endings (Kacper, Kacpra, Kacprem, Kacprowi; Zielinski, Zielinska, Zielinskiego);
- phones: any digit run whose last ten digits equal the number's (07700 900418, +44 7700 900418, 07700-900-418);
- dates of birth: numeric (17/06/2007, 17.6.07, 2007-06-17) and written (17 June 2007, June 17th, 2007);
- addresses: in full, or the street alone (with or without the house number); handles with `@` optional; both
  case-, space- and punctuation-insensitive;
- name forms of the case languages: Arabic/Urdu transliterations by consonant skeleton with neighbouring vowels
  (Mohammed, Muhammad, Mohamed), with or without the article (al-Rashid, Al Rashid, Alrashid); Vietnamese without
  diacritics and in either order (every word matches on its own; a two-letter word only next to another of the
  person's names: Le Thi Hoa, Hoa Le).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.perms import private_dir, write_private_text
from assistant.pii.forms import (
    PARTICLES,
    PHONE_PREFIX,
    SHORT,
    address_forms,
    dob_patterns,
    kept_short_words,
    loose,
    name_particles,
    name_pattern,
    sender_fields,
    style,
)
from assistant.pii.forms import fold as fold
from assistant.types import Entity

KINDS = ("names", "aliases", "phones", "addresses", "dobs", "handles")
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


@dataclass
class ProtectedSet:
    """The protected persons of one case, compiled for matching."""

    persons: tuple[ProtectedPerson, ...] = ()
    _patterns: list[tuple[re.Pattern[str], int, str, bool]] = field(default_factory=list, repr=False)
    _exact: dict[int, set[str]] = field(default_factory=dict, repr=False)  # short words with diacritics, as written
    _particles: dict[int, set[str]] = field(default_factory=dict, repr=False)  # words the listed name writes lower

    def __post_init__(self) -> None:
        for k, p in enumerate(self.persons, start=1):
            written = [w for n in p.names + p.aliases for w in re.findall(r"[^\W\d_]{2,}", n)]
            words = {fold(w) for w in written}
            self._exact[k] = {w.casefold() for w in written if len(w) <= SHORT and fold(w) != w.lower()}
            self._particles[k] = {w for n in p.names + p.aliases for w in name_particles(n)}  # van, de, ten, bin
            for w in sorted(words, key=len, reverse=True):
                if len(w) == 2:  # Le, Vu, Do, Ho (Vietnamese family names): only next to the person's other names
                    self._add(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", k, "NAME", weak=True)
                else:  # a three-letter word (Văn, Ali) is weighed in `find` by how it is written; so is a particle
                    particle = w in PARTICLES and w in self._particles[k]  # della, degli, binti: never a name alone
                    self._add(rf"(?<![^\W_]){name_pattern(w)}(?![^\W_])", k, "NAME", weak=len(w) <= SHORT or particle)
            for a in p.addresses:  # in full, or its street ("14 Larkspur Close", "Larkspur Close") on its own
                for form in address_forms(a):
                    self._add(rf"(?<![^\W_]){loose(form)}(?![^\W_])", k, "ADDRESS")
            for h in p.handles:
                self._add(rf"(?<![\w.])@?{re.escape(fold(h).lstrip('@'))}(?![\w])", k, "HANDLE")
            for d in p.dobs:
                for pat in dob_patterns(parse_dob(d)):
                    self._add(rf"(?<!\d){pat}(?!\d)", k, "DOB")
            for ph in p.phones:
                if len(digits := re.sub(r"\D", "", ph)[-10:]) >= 7:  # any prefix (+44, 0044, 0), any separators
                    body = r"[ \t.\-()]{0,2}".join(digits[1:] if len(digits) == 10 and digits[0] == "0" else digits)
                    self._add(rf"(?<![\d+]){PHONE_PREFIX}{body}(?!\d)", k, "PHONE")

    def _add(self, pattern: str, k: int, kind: str, weak: bool = False) -> None:
        self._patterns.append((re.compile(pattern), k, kind, weak))

    def __bool__(self) -> bool:
        return bool(self.persons)

    def find(self, text: str, *, name_field: bool = False) -> list[Entity]:
        """Spans of protected identifiers in `text` (non-overlapping, leftmost-longest), typed PROTECTED_<k>_<KIND>."""
        if not self.persons or not text:
            return []
        folded = fold(text)
        hits: list[tuple[int, int, int, str]] = []
        weak: list[tuple[int, int, int, str]] = []
        raw = [((m.start(), m.end(), k, kind), is_weak) for pattern, k, kind, is_weak in self._patterns
               for m in pattern.finditer(folded) if m.end() > m.start()]
        fields = sender_fields(text, [h for h, _ in raw])
        for hit, is_weak in raw:
            in_field = name_field or any(s <= hit[0] and hit[1] <= e for s, e in fields)
            alone = in_field or self._stands_alone(text, hit)  # a sender field is a name, any case
            (weak if is_weak and not alone else hits).append(hit)
        hits += kept_short_words(text, folded, hits, weak, self._particles)
        out: list[Entity] = []
        end = -1
        for s, e, k, kind in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
            if s >= end:
                out.append(Entity(f"PROTECTED_{k}_{kind}", s, e, text[s:e], 1.0))
                end = e
        return out

    def _stands_alone(self, text: str, hit: tuple[int, int, int, str]) -> bool:
        """A short name word matches on its own when written as a name: with the diacritics of the listed name (Văn)
        or, for three letters, capitalised (Van, Ali), unless it is one of the person's particles. Otherwise ("van",
        "Le", "An") it needs a neighbour."""
        word = text[hit[0]:hit[1]]
        if word.casefold() in self._exact.get(hit[2], set()):
            return True
        if len(word) < SHORT or fold(word) in self._particles.get(hit[2], set()) & PARTICLES:
            return False  # two-letter words match only two letters; a particle ("Van hire") only before a name word
        around = re.findall(r"[^\W\d_]{2,}", text[max(0, hit[0] - 30):hit[0]])[-1:] + re.findall(
            r"[^\W\d_]{2,}", text[hit[1]:hit[1] + 30])[:1]
        caps_run = any(w.isupper() for w in around)  # "GREY FORD VAN": a heading, not a surname in capitals
        return style(word) == "title" or (style(word) == "upper" and not caps_run)

    def sub(self, text: str, *, name_field: bool = False) -> str:
        """`text` with every protected identifier replaced by its placeholder; in a `name_field` (a message's sender
        or recipient) a short name word matches whatever its case ("van an")."""
        for ent in reversed(self.find(text, name_field=name_field)):
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


CASE_FILE = "protected.json"  # at the top of an ingested folder: the case's protected persons, never evidence


def case_files(paths: Iterable[Path]) -> list[Path]:
    """The protected-persons case files among ingest roots: `<folder>/protected.json`, or a root that is one."""
    out = []
    for p in paths:
        f = p / CASE_FILE if p.is_dir() else p
        if f.name == CASE_FILE and f.is_file():
            out.append(f)
    return out


def protect_case_files(index_dir: Path, audit: Any, actor: str, case: str, paths: Iterable[Path]) -> list[Path]:
    """Read every case file among the ingest roots and protect its persons (audited as `actor`); all files are read
    before any is applied, so a bad one protects nobody and names the file. Returns the files applied."""
    read = [(f, read_persons_file(f)) for f in case_files(paths)]
    for _f, persons in read:
        protect(index_dir, audit, actor, case, persons, "case file")
    return [f for f, _persons in read]


def protected_set(index_dir: Path, case: str) -> ProtectedSet:
    return ProtectedSet(load_persons(index_dir, case)) if case else ProtectedSet()
