"""Does one claim follow from the passages it cites? The lexical and semantic checks behind `assistant.verify.verifier`.

A passage is cut into evidence units (sentences; for message passages, whole message lines, so sender and time
count as evidence) with their lexical facts. For a claim, the best window of 1..MAX_WINDOW consecutive units of
each cited passage is chosen (or the model's own quote, when it is found verbatim and supports the claim), and the
claim is supported only when, over the chosen windows:

1. every identifier-like token of the claim (numbers, dates, registrations, e-mails, @handles, capitalised names)
   occurs in them (multi-word names as a phrase);
2. negation agrees (a claim with "not"/"never" needs evidence with one, and the other way round);
3. the claim's content words are covered (stemmed overlap >= `min_coverage`) and, with an embedder, the claim and
   the evidence are semantically close (cosine >= `min_cosine`);
4. no chosen unit is instruction-like text ("ignore previous instructions ..."), which is never evidence;
5. with `roles` (the default), each verb's agent, patient and negation agree with the evidence
   (`assistant.verify.roles`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.text.identifiers import Identifiers, extract_identifiers
from assistant.text.injection import instruction_units
from assistant.text.lexicon import content_terms, has_negation, words
from assistant.text.quotes import Span, line_span, locate_quote
from assistant.text.sentences import passage_units
from assistant.text.timestamps import with_written_timestamps
from assistant.text.untranslated import untranslated_spans
from assistant.types import Passage
from assistant.verify.machine import Original, original_lines, unsupported_names
from assistant.verify.phrases import phrase_in
from assistant.verify.roles import conflict
from assistant.verify.subject import lend_subject, named

if TYPE_CHECKING:
    from assistant.index.embedding import Embedder

MAX_WINDOW = 3  # sentences per evidence window
_MESSAGE_LINE = re.compile(r"\[[^\]\n]*\]\s*(?P<sender>[^:\n→]+?)\s*(?:→\s*[^:\n]+)?:\s+")  # "[ts] A → B: "
UNIT_SHARE = 0.4  # each sentence of a multi-sentence window carries this share of the claim
_FIRST_PERSON = re.compile(r"\bI\b|\b[Mm]y\b")
_PRONOUN = re.compile(r"[\"“']?(?:He|She|It|They|His|Her|Its|Their|The (?:company|band|film|group|man|woman))\b")

@dataclass(frozen=True)
class Evidence:
    index: int  # 0-based passage index
    start: int
    end: int
    note: str = ""


@dataclass(frozen=True)
class ClaimResult:
    supported: bool
    reason: str  # a code, never text: ok | identifiers | coverage | negation | semantic | no_evidence | roles
    #              | predicate (the last two from assistant.verify.roles)
    coverage: float
    evidence: tuple[Evidence, ...] = ()  # only when supported
    cosine: float = -1.0  # claim vs evidence window, -1 without an embedder
    candidates: tuple[Evidence, ...] = ()  # the windows that were judged, supported or not


@dataclass
class _Facts:
    terms: set[str]
    words: set[str]
    numbers: set[str]
    dates: set[tuple[int | None, int, int | None]]
    regs: set[str]
    text: str

    def add(self, other: _Facts) -> None:
        self.terms |= other.terms
        self.words |= other.words
        self.numbers |= other.numbers
        self.dates |= other.dates
        self.regs |= other.regs
        self.text = f"{self.text} {other.text}"


def _facts(text: str) -> _Facts:
    ids = extract_identifiers(text, subgroups=True)
    numbers = set(ids.numbers) | {str(y) for y, _, _ in ids.dates if y} | {str(d) for _, _, d in ids.dates if d}
    toks = {w.lower().removesuffix("'s") for w in words(text)}
    toks |= {part for w in toks if "-" in w for part in w.split("-")}
    flat = re.sub(r"[^\w\s'@.+-]", " ", text.lower().replace("’", "'"))  # '"Dick" Humbert' -> 'dick humbert'
    return _Facts(set(content_terms(text)), toks, numbers, set(ids.dates), set(ids.regs), " ".join(flat.split()))


def _only_original(f: _Facts, orig: _Facts, translation: str, original: Original) -> None:
    f.numbers &= orig.numbers
    f.dates &= orig.dates
    f.regs &= orig.regs
    f.words -= unsupported_names(translation, original.line, original.lang)


def _empty() -> _Facts:
    return _Facts(set(), set(), set(), set(), set(), "")


@dataclass
class PassageView:
    """A passage cut into evidence units with their lexical facts (instruction-like units are blocked)."""

    text: str
    units: list[Span]
    facts: list[_Facts]
    blocked: list[bool]
    lowercase_words: set[str]
    anaphoric: list[bool]  # unit opens with a pronoun that refers back ("He played for ...")
    alone: list[_Facts]  # a unit's facts when it is the whole window: with the paragraph's subject lent (subject.py)
    subject: str = ""  # the lent subject ("" when none)

    @classmethod
    def build(cls, p: Passage) -> PassageView:
        units = passage_units(p.text, p.kind, p.meta)
        untranslated = untranslated_spans(p)
        foreign = [(s, e) in untranslated for s, e in units]  # an untranslated message is never evidence
        if p.kind == "messages":  # verify against the whole line: sender and timestamp are evidence too
            lines = [line_span(p.text, s, e) for s, e in units]
            originals = original_lines(p, units, lines)
            units = lines
        # a message's timestamp is written out first, so its date is a fact ("today" in it means that date)
        facts = [_facts(with_written_timestamps(p.text[s:e]) if p.kind == "messages" else p.text[s:e])
                 for s, e in units]
        if p.kind == "messages":  # a machine translation's identifiers count only when the original holds them
            for f, original, (s, e) in zip(facts, originals, units, strict=True):
                if original is not None:
                    _only_original(f, _facts(with_written_timestamps(original.line)), p.text[s:e], original)
        if units and p.kind != "messages":  # "I saw ..." in a statement means its author, named in the heading
            author = {w.lower() for w in words(p.text[slice(*units[0])]) if w[:1].isupper()}
            for k in range(1, len(units)):
                if _FIRST_PERSON.search(p.text[slice(*units[k])]):
                    facts[k].words |= author
        blocked = [b or f for b, f in zip(instruction_units(p.text, units, paragraphs=p.kind != "messages"), foreign,
                                                         strict=True)]
        lower = {w for w in words(p.text) if w.islower()}
        anaphoric = [bool(_PRONOUN.match(p.text, s)) for s, _ in units]
        alone = [_empty() for _ in facts]
        for single, f in zip(alone, facts, strict=True):
            single.add(f)
        if p.kind != "messages":  # "She is noted for ..." states a fact about the paragraph's opening subject
            subject = lend_subject(alone, [p.text[s:e] for s, e in units], anaphoric)
        return cls(p.text, units, facts, blocked, lower, anaphoric, alone, subject if p.kind != "messages" else "")

    def window(self, i: int, j: int) -> _Facts:
        out = _empty()
        for k in range(i, j + 1):
            out.add(self.facts[k])
        return out


def _date_ok(d: tuple[int | None, int, int | None], f: _Facts) -> bool:
    y, m, day = d
    return any(m == m2 and (day is None or day == d2) and (y is None or y == y2 or (y2 is None and str(y) in f.numbers))
               for y2, m2, d2 in f.dates)


def _identifier_hits(ids: Identifiers, names: Sequence[str], f: _Facts) -> tuple[int, int]:
    """(found, total) identifiers of a claim in the facts of an evidence window. Multi-word names must occur as
    a phrase, so "Two Independent Publishing House" is not supported by "independent publishing house"."""
    phrases = set(ids.phrases) | ({ids.initial_phrase} if ids.initial_phrase and ids.initial in names else set())
    checks = [phrase_in(p, f.text) for p in phrases]
    checks += [n in f.numbers for n in ids.numbers]
    checks += [_date_ok(d, f) for d in ids.dates]
    checks += [r in f.regs or r.lower() in f.text.replace(" ", "") for r in ids.regs]
    checks += [e in f.text for e in ids.emails]
    checks += [h in f.text or h[1:] in f.words for h in ids.handles]
    checks += [n in f.words for n in names]
    return sum(checks), len(checks)


def _coverage(terms: set[str], f: _Facts) -> float:
    return len(terms & f.terms) / len(terms) if terms else 1.0


def check_claim(claim: str, ids: Identifiers, cited: Sequence[tuple[int, PassageView, Sequence[str]]], *,
                lowercase_words: set[str], min_coverage: float, min_cosine: float,
                embedder: Embedder | None = None, roles: bool = True) -> ClaimResult:
    """Is `claim` supported by the cited passages (index, view, model quotes)? See the module docstring."""
    terms = set(content_terms(claim))
    names = sorted(ids.names | ({ids.initial} if ids.initial and ids.initial not in lowercase_words else set()))
    candidates = []
    for index, view, quotes in cited:
        best = _best_window(view, terms, ids, names, quotes)
        if best is not None:
            candidates.append((_identifier_hits(ids, names, best[1])[0] + _coverage(terms, best[1]), index, view, best))
    union = _empty()
    evidence: list[Evidence] = []
    negated: list[bool] = []
    said: list[tuple[str, str]] = []  # (evidence text, the passage's heading) for the role check
    for _, index, view, (ev, f) in sorted(candidates, key=lambda c: -c[0]):
        before = (_identifier_hits(ids, names, union)[0], len(terms & union.terms))
        trial = _empty()
        trial.add(union)
        trial.add(f)
        if (_identifier_hits(ids, names, trial)[0], len(terms & trial.terms)) <= before:
            continue  # this citation adds nothing the others have not already shown
        union = trial
        evidence.append(Evidence(index, ev.start, ev.end, ev.note))
        neg_unit = max(range(len(view.units)), key=lambda k: (_in(view.units[k], ev), _coverage(terms, view.facts[k])))
        negated.append(has_negation(view.text[slice(*view.units[neg_unit])]))
        said.append(_said(named(view.text[ev.start : ev.end], view.subject), view.text[slice(*view.units[0])]))
    if not evidence:
        return ClaimResult(False, "no_evidence", 0.0)
    coverage = _coverage(terms, union)
    found, total = _identifier_hits(ids, names, union)
    cosine = -1.0
    if embedder is not None:
        vecs = embedder.embed_texts([claim, union.text])
        cosine = float(vecs[0] @ vecs[1])
    reason = "ok"
    if found < total:
        reason = "identifiers"
    elif has_negation(claim) != any(negated):
        reason = "negation"
    elif coverage < min_coverage:
        reason = "coverage"
    elif embedder is not None and cosine < min_cosine:
        reason = "semantic"
    elif roles:  # who did what to whom (assistant.verify.roles): predicate, agent, patient, negation per verb
        reason = conflict(claim, [t for t, _ in said], " ".join(dict.fromkeys(h for _, h in said))) or "ok"
    ok = reason == "ok"
    return ClaimResult(ok, reason, coverage, tuple(evidence) if ok else (), cosine, tuple(evidence))


def _said(evidence: str, heading: str) -> tuple[str, str]:
    """(what was said, who says it) for the role check: a message line is its body, said by its sender ("me" in
    "[ts] Ana → Ben: meet me" is Ana); other evidence is said by the author its passage's heading names."""
    line = _MESSAGE_LINE.match(evidence)
    return (evidence[line.end():], line.group("sender")) if line else (evidence, heading)


def _in(unit: Span, ev: Evidence) -> bool:
    return unit[0] < ev.end and ev.start < unit[1]


def _best_window(view: PassageView, terms: set[str], ids: Identifiers, names: Sequence[str],
                 quotes: Sequence[str]) -> tuple[Evidence, _Facts] | None:
    """The evidence window of one passage: the model's quote when it supports the claim, else the best window of
    1..MAX_WINDOW consecutive units. In a multi-unit window every unit must carry a fair share (UNIT_SHARE) of
    the claim's words and identifiers found in this passage, so "Smith drove the van. Jones was also present."
    does not support "Jones drove the van"."""
    plain = terms - set(content_terms(" ".join(names)))  # a name counts once, as an identifier
    per_unit = [len(plain & f.terms) + _identifier_hits(ids, names, f)[0] for f in view.facts]
    whole = view.window(0, len(view.units) - 1) if view.units else _empty()
    share = max(1, math.ceil(UNIT_SHARE * (len(plain & whole.terms) + _identifier_hits(ids, names, whole)[0])))

    def score(i: int, j: int) -> tuple[tuple[bool, float], _Facts] | None:
        if any(view.blocked[i : j + 1]):
            return None
        for k in range(i, j + 1) if j > i else ():
            antecedent = k < j and view.anaphoric[k + 1] and per_unit[k] > 0  # "X was ... . He played ..."
            if per_unit[k] < share and not antecedent:
                return None
        f = view.alone[i] if i == j else view.window(i, j)
        found, need = _identifier_hits(ids, names, f)
        return (found == need, found + _coverage(terms, f) - 0.02 * (j - i)), f

    best: tuple[tuple[bool, float], Evidence, _Facts] | None = None
    n = len(view.units)
    for i in range(n):
        for j in range(i, min(i + MAX_WINDOW, n)):
            scored = score(i, j)
            if scored is not None and (best is None or scored[0] > best[0]):
                best = (scored[0], Evidence(0, view.units[i][0], view.units[j][1]), scored[1])
    for quote in quotes:
        span = locate_quote(view.text, quote)
        note = "model quote not found verbatim; best-matching passage text shown"
        if span is not None:
            hit = [k for k, u in enumerate(view.units) if u[0] < span[1] and span[0] < u[1]]
            scored = score(hit[0], hit[-1]) if hit else None
            if scored is not None and (best is None or (scored[0][0], scored[0][1] + 0.05) >= best[0]):
                return Evidence(0, span[0], span[1]), scored[1]
            note = "model quote did not support the claim; best-matching passage text shown"
        if best is not None:
            best = (best[0], Evidence(0, best[1].start, best[1].end, note), best[2])
    return (best[1], best[2]) if best else None
