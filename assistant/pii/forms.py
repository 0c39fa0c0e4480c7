"""Patterns for the written forms of a protected person's identifiers (used by `pii.protected`): names with the case
languages' inflections and transliterations, dates of birth in any common notation, addresses and their streets; and
when a short name word (Văn, Le) in a text is written as a name rather than as an English word ("van").
Every pattern applies to `fold(text)`: lower-case and diacritic-free, one character per character."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# Case endings added to a name's stem (the name minus a final vowel). Polish: Kacpra, Kacprem, Kacprowi, Kacprze,
# Kacprowie, Zielinskiego, Zielinskiemu, Zielinskim; Romanian: Ionut, Ionutului, Mariei, Mariana; English 's.
_ENDINGS = ("a", "e", "i", "o", "u", "y", "em", "ie", "ze", "ce", "owi", "ow", "om", "ach", "ami", "owie", "iego",
            "iemu", "im", "ich", "ej", "a", "ul", "ului", "ei", "ii", "lui", "ek", "ka", "ki", "ko")
_VOWELS = "aeiouy"
_NEAR_VOWELS = {"a": "ae", "e": "aei", "i": "eiy", "o": "ou", "u": "ou", "y": "iy"}
# Arabic/Urdu article before a name word: al-/el-/ul- (also "Al " and "Alrashid"), and the sun-letter forms ad-, ar-,
# as-, ash-, at-, az-, an- (hyphenated only, so English "as"/"an" before a name stay readable).
_ARTICLE = r"(?:[aeu]l[\s\-'’]?|[ae](?:[dnrtz]|sh?)[\-'’])?"
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_SEP = r"[ \t.\-]{0,2}"
PHONE_PREFIX = rf"(?:(?:\+|00)\s?\d{{1,3}}[ \t.\-()]{{0,3}}\(?0?\)?{_SEP}|\(?0\)?{_SEP})?"
SHORT = 3  # name words of up to three letters (Văn, Le, An, Ali) are also everyday words in English ("van", "an")
# A message line's sender prefix: one to four words and a colon at the start of a line, after an optional bracketed
# time ("van an: see you", "[21:40] Van An: ok") or a bare date and time as chat exports write them ("21:40 an: ok",
# "12/01/2024, 21:40 - an: ok", "2024-01-12 21:40:05 an: ok"); not a URL scheme ("http://").
_STAMP = (r"(?:\[[^\]\n]{1,40}\]|(?:\d[\d/.\-]*,?[ \t]+)?\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]*[AaPp]\.?[Mm]\.?)?"
          r"(?:[ \t]*[-\u2013])?)")
SENDER_PREFIX = re.compile(rf"^[ \t]*(?:{_STAMP}[ \t]*)?([^\W\d_]+(?:[ \t'\-][^\W\d_]+){{0,3}})[ \t]*:(?!//)",
                           re.MULTILINE)
Hit = tuple[int, int, int, str]  # a match in a text: start, end, person number, kind
# Name particles: the words that public naming conventions put between a given name and the surname, written in lower
# or upper case depending on country and family. Dutch/Flemish/Afrikaans "tussenvoegsels" (van, de, der, den, ten,
# ter, te, het, op, in); German (von, zu, vom, zum, zur); French (de, du, des, la, le); Italian (di, da, del, della,
# dei, degli, delle, dello, lo); Spanish/Portuguese (de, del, la, las, los, da, das, do, dos); Scandinavian (af, av);
# Arabic nasab and article (bin, ibn, bint, binti, ben, al, el, abu); Hebrew (ben, bat); Welsh (ap); Irish/Scottish
# (mac, nic, ni). A listed name's word from this set, between two of its other words, is a particle of that person.
PARTICLES = frozenset({
    "van", "de", "der", "den", "ten", "ter", "te", "het", "op", "in", "von", "zu", "vom", "zum", "zur", "du", "des",
    "la", "le", "di", "da", "del", "della", "dei", "degli", "delle", "dello", "lo", "las", "los", "do", "dos", "das",
    "af", "av", "bin", "ibn", "bint", "binti", "ben", "al", "el", "abu", "bat", "ap", "mac", "nic", "ni"})
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "s", "ı": "i"})


def fold(text: str) -> str:
    """Lower-case, diacritics removed, one character per character (offsets into `fold(t)` are offsets into t)."""
    out = []
    for ch in text.translate(_FOLD):
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else base)
    return "".join(out)


def _skeleton(stem: str) -> str | None:
    """A transliteration-tolerant pattern of `stem` when it has 3 or more consonants (fewer match ordinary words),
    else None: the consonants in order (each written once or doubled), and for each run of vowels one to one-more
    vowels of a neighbouring sound (a/e, e/i, i/y, o/u); a lone e before the final consonant may drop (Polish Kacper,
    Kacpra; Marek, Marka). So Mohammed, Muhammad, Mohamed; Hussain, Husayn; Osman, Usman; not Mahmoud for Mohammed,
    not Potter for Peter. Measured on the Presidio set (README, "Protected persons")."""
    runs = re.findall(rf"[{_VOWELS}]+|[^{_VOWELS}]+", stem)
    if sum(len(re.sub(r"(.)\1", r"\1", r)) for r in runs if r[0] not in _VOWELS) < 3:
        return None
    out = []
    for i, run in enumerate(runs):
        if run[0] in _VOWELS:
            near = "".join(sorted({c for v in run for c in _NEAR_VOWELS[v]}))
            fleeting = run == "e" and i == len(runs) - 2 and len(runs[-1]) == 1
            out.append(f"[{near}]{{{0 if fleeting else 1},{len(run) + 1}}}")
        else:
            out.append("".join(f"{re.escape(c)}{{1,2}}" for c in re.sub(r"(.)\1", r"\1", run)))
    return "".join(out)


def name_pattern(word: str) -> str:
    stem = word[:-1] if len(word) > 4 and word[-1] in _VOWELS else word
    body = _skeleton(stem)
    if body is None:
        dropped_e = len(stem) > 4 and stem.endswith("er")  # Kacper -> Kacpr-a (the e drops before an ending)
        body = re.escape(stem[:-2]) + "e?r" if dropped_e else re.escape(stem)
    endings = "|".join(sorted(set(_ENDINGS), key=len, reverse=True))
    return rf"{_ARTICLE}{body}(?:{endings})?(?:'s|s)?"


def dob_patterns(d: date) -> list[str]:
    day, mon, yr = d.day, d.month, d.year
    sep = r"\s*[/.\-]\s*"
    month = _MONTHS[mon - 1]
    name = rf"(?:{month}|{month[:3]}\.?)"
    ords = r"(?:st|nd|rd|th)?"
    years = rf"(?:{yr}|{yr % 100:02d})"
    return [rf"0?{day}{sep}0?{mon}{sep}{years}", rf"{yr}{sep}0?{mon}{sep}0?{day}",
            rf"0?{day}{ords}\s+(?:of\s+)?{name},?\s+{yr}", rf"{name}\s+0?{day}{ords},?\s+{yr}"]


def address_forms(address: str) -> list[str]:
    """An address, its first part (the street, up to the first comma) and that street without its house number,
    each only when it has two words or more."""
    street = address.split(",")[0].strip()
    bare = re.sub(r"^(?:flat\s+)?\d+[a-z]?\s+", "", street, flags=re.I)
    return list(dict.fromkeys(f for f in (address, street, bare) if len(f.split()) >= 2))


def loose(text: str) -> str:
    """A literal as a pattern that tolerates any run of spaces/punctuation where the literal has one."""
    parts = [re.escape(p) for p in re.split(r"[\s,.;:\-]+", fold(text)) if p]
    return r"[\s,.;:\-]+".join(parts)


def name_particles(name: str) -> set[str]:
    """The particles of one listed name (folded): its words written in lower case (the "van", "ten", "bin" of
    "Maika van de Noort"), and its words from `PARTICLES`, whatever their case, that sit between a word before them
    and a run of particles ending in a word that is not one ("Van De" in "Maika Van De Noort"; not the given name of
    "Van Morrison", not a last word). A diacritic form is not a particle: "Văn" is a Vietnamese middle name."""
    words = re.findall(r"[^\W\d_]{2,}", name)
    listed = [w.casefold() in PARTICLES for w in words]
    out = {fold(w) for w in words if w.islower()}
    for i, w in enumerate(words):
        after = next((j for j in range(i + 1, len(words)) if not listed[j]), None)
        if listed[i] and i > 0 and after is not None:
            out.add(fold(w))
    return out


def style(word: str) -> str:
    return "lower" if word.islower() else "upper" if word.isupper() else "title" if word[:1].isupper() else "mixed"


def kept_short_words(text: str, folded: str, hits: list[Hit], weak: list[Hit],
                     particles: dict[int, set[str]] | None = None) -> list[Hit]:
    """The short words (`weak`) kept as names: next to a kept name word of the same person (Nguyen Van An, Le Thi Hoa,
    Hoa LE), next to another of the person's short words when both are capitalised (Van An, LE An), in a run of the
    person's short words with a name word at both ends (particles: Willemine ten Pas, Maika van de Noort), joined to a
    name word by a hyphen whatever its case (Hauta-aho), or, for a word the listed name itself writes in lower case
    (`particles`: its van, de, ten, bin, see `name_particles`), in a run of such words before a name word, separated
    by spaces (van de Noort, "Van de Noort" for a listed "Maika Van De Noort"); but not a
    lower-case word beside a capitalised name alone ("Nguyen's van": English text around a name), nor a word beside
    the same word ("an an")."""
    def fits(w: Hit, h: Hit) -> bool:
        return (h[2] == w[2] and adjacent(folded, h, w) and folded[h[0]:h[1]] != folded[w[0]:w[1]]
                and (style(text[w[0]:w[1]]) != "lower" or style(text[h[0]:h[1]]) == "lower"
                     or hyphened(folded, h, w)))

    def reaches(w: Hit, anchors: list[Hit], pending: list[Hit], left: bool, only: set[str] | None) -> bool:
        """Whether a run of `pending` words (folded forms in `only`, when given, and then separated by spaces alone:
        "the van, Noort said" is no particle run) from `w` reaches an anchor."""
        near = adjacent if only is None else spaced
        cur = w
        for _ in range(len(pending) + 1):
            side = [h for h in anchors if h[2] == w[2] and near(folded, h, cur) and (h[0] < cur[0]) == left]
            if side:
                return True
            nxt = [v for v in pending if v[2] == w[2] and near(folded, v, cur) and (v[0] < cur[0]) == left
                   and (only is None or folded[v[0]:v[1]] in only)]
            if not nxt:
                return False
            cur = nxt[0]
        return False

    parts = particles or {}

    def keep(w: Hit, anchors: list[Hit], pending: list[Hit]) -> bool:
        if any(fits(w, h) for h in anchors) or any(
                fits(w, v) and style(text[w[0]:w[1]]) != "lower" != style(text[v[0]:v[1]]) for v in pending if v != w):
            return True
        if reaches(w, anchors, pending, True, None) and reaches(w, anchors, pending, False, None):
            return True
        own = parts.get(w[2], set())
        return folded[w[0]:w[1]] in own and reaches(w, anchors, pending, False, own)

    kept: list[Hit] = []
    pending = list(weak)
    while pending:
        anchors = [h for h in hits if h[3] == "NAME"] + kept
        near = [w for w in pending if keep(w, anchors, pending)]
        if not near:
            break
        kept += near
        pending = [w for w in pending if w not in near]
    return kept


def sender_fields(text: str, hits: list[Hit]) -> list[tuple[int, int]]:
    """The sender prefixes of `text`'s message lines whose every word is (part of) a protected match: "van an: ok" is
    a name field, "The van: grey" is not."""
    out = []
    for m in SENDER_PREFIX.finditer(text):
        words = [(w.start(), w.end()) for w in re.finditer(r"[^\W\d_]+", text[m.start(1):m.end(1)])]
        if all(any(h[0] <= m.start(1) + s and m.start(1) + e <= h[1] for h in hits) for s, e in words):
            out.append(m.span(1))
    return out


def hyphened(text: str, a: Hit, b: Hit) -> bool:
    """Whether two spans are the parts of one hyphenated word (Hauta-aho)."""
    return text[a[1]:b[0]] == "-" or text[b[1]:a[0]] == "-"


def spaced(text: str, a: Hit, b: Hit) -> bool:
    """Whether two spans are separated by white space alone ("van de Noort", not "van, Noort")."""
    gap = text[a[1]:b[0]] if a[1] <= b[0] else text[b[1]:a[0]] if b[1] <= a[0] else "x"
    return bool(re.fullmatch(r"\s{1,3}", gap))


def adjacent(text: str, a: Hit, b: Hit) -> bool:
    """Whether two spans are separated only by spaces, hyphens or a comma ("Le Thi", "Hoa-Le", "LE, Hoa")."""
    gap = text[a[1]:b[0]] if a[1] <= b[0] else text[b[1]:a[0]] if b[1] <= a[0] else "x"
    return bool(re.fullmatch(r"[\s\-,]{1,3}", gap))
