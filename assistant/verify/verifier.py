"""Check every cited claim of a model's draft against the passages it cites; keep only what the passages support.

A draft is split into claims (lines, then sentences). Markers are 1-based indexes into the retrieved passages as
numbered in the prompt; "[1][2]", "[1, 2]", "[1-3]" and "[Passage 2]" are all read, a quote in double quotes right
after a marker is taken as the model's verbatim evidence for it, and markers written after the full stop belong to
the sentence before them. Each claim is judged against its cited passages by `assistant.verify.support.check_claim`
(identifiers present, negation agreeing, content words covered, semantically close, never instruction-like text).

A supported claim whose citation is clearly the weaker source is re-cited: when another retrieved passage, not
cited, supports the same claim by a margin (settings `move_coverage` or `move_cosine`), the citation points
at that passage instead and says so in its note ("the model cited [k]"). A model that read one passage and cited
its neighbour is the usual cause; the reviewer then opens the passage that really states the claim. Such claims
are counted in `moved`. Unsupported claims are never rescued this way: they stay flagged.

The model's quote, when given and found verbatim (case/whitespace/quote-style normalised), becomes the citation's
quote as the exact passage substring; otherwise the best-matching window is shown with a note. Every returned
citation therefore quotes the passage verbatim (`verified=True`). Markers that point at passages that were not
retrieved are dropped and reported; claims with no usable marker or no support are removed and listed in
`flagged` (or kept with a visible "⚠ unsupported:" prefix and no marker when `mark_unsupported=True`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from assistant.config import AnswerSettings
from assistant.text.identifiers import Identifiers, extract_identifiers
from assistant.text.lexicon import content_terms
from assistant.text.sentences import split_sentences
from assistant.types import Citation, Passage
from assistant.verify.support import ClaimResult, Evidence, PassageView, check_claim

if TYPE_CHECKING:
    from assistant.index.embedding import Embedder

log = logging.getLogger(__name__)

UNSUPPORTED_PREFIX = "⚠ unsupported: "

_NUM = r"\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*"
_MARK = rf"\[\s*(?:(?:passage|source|doc(?:ument)?|p)\s*)?{_NUM}\s*\]"
_QUOTE = r"\s*[:\-–—]?\s*\(?\s*(?:quote:\s*)?(?:“[^”\n]{2,600}”|\"[^\"\n]{2,600}\")\s*\)?"
_CITE = re.compile(rf"(?:\s*{_MARK})+(?:{_QUOTE})*", re.IGNORECASE)
_MARK_RE = re.compile(_MARK, re.IGNORECASE)
_QUOTE_RE = re.compile(r"“([^”\n]{2,600})”|\"([^\"\n]{2,600})\"")
_NOT_FOUND = re.compile(r"^\W*not found\b", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:#{1,6}\s+|[-*•]\s+|\d{1,2}[.)]\s+)?(?:(?:final\s+)?answer\s*:\s*|claim\s*:\s*)?", re.I)
_PH_BASE = 0xE000


@dataclass(frozen=True)
class DraftClaim:
    text: str
    refs: tuple[int, ...]
    quotes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class VerifiedDraft:
    text: str
    citations: tuple[Citation, ...]
    flagged: tuple[str, ...]
    dropped_refs: tuple[int, ...]
    not_found: bool
    kept: int = 0
    notes: tuple[str, ...] = ()
    moved: int = 0  # kept claims re-cited to a passage that states them more closely than the one cited


@dataclass
class _Cite:
    refs: list[int]
    quotes: list[str]


def _refs(marks: str) -> list[int]:
    out: list[int] = []
    for m in _MARK_RE.finditer(marks):
        body = re.sub(r"[^\d,;\-–and ]", "", m.group(0).lower())
        for part in re.split(r"\s*(?:,|;|and)\s*", body):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            if len(bounds) == 2 and ("-" in part or "–" in part) and 0 < bounds[1] - bounds[0] <= 10:
                out.extend(range(bounds[0], bounds[1] + 1))
            else:
                out.extend(bounds)
    return list(dict.fromkeys(out))


def _clean_claim(text: str) -> str:
    text = re.sub(f"[{chr(_PH_BASE)}-{chr(_PH_BASE + 0x17FF)}]", " ", text)
    text = text.replace("**", "").replace("()", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip(" -–—")


def parse_draft(draft: str) -> tuple[list[DraftClaim], bool]:
    """Claims of a draft (in order) and whether the model said NOT FOUND."""
    claims: list[DraftClaim] = []
    not_found = False
    for line_no, raw in enumerate(draft.splitlines()):
        line = _LEAD.sub("", raw.replace("**", ""), count=1)
        if not line.strip():
            continue
        if _NOT_FOUND.match(line):
            not_found = True
            continue
        cites: list[_Cite] = []
        pieces: list[str] = []
        pos = 0
        for m in _CITE.finditer(line):
            pieces.append(line[pos : m.start()])
            pieces.append(chr(_PH_BASE + len(cites)))
            found = [a or b for a, b in _QUOTE_RE.findall(line[m.start() : m.end()])]
            cites.append(_Cite(_refs(line[m.start() : m.end()]), found))
            pos = m.end()
        pieces.append(line[pos:])
        plain = "".join(pieces)
        ph = f"[{chr(_PH_BASE)}-{chr(_PH_BASE + 0x17FF)}]"
        plain = re.sub(rf"([.!?]+)(\s*)((?:{ph}\s*)+)", lambda m: m.group(3).replace(" ", "") + m.group(1) + " ", plain)
        masked = re.sub(r"\"[^\"\n]{1,400}\"|“[^”\n]{1,400}”", lambda m: re.sub(r"[.!?]", ",", m.group(0)), plain)
        used: set[int] = set()
        for s, e in split_sentences(masked):
            sentence = plain[s:e]
            ids = [ord(ch) - _PH_BASE for ch in sentence if _PH_BASE <= ord(ch) < _PH_BASE + len(cites)]
            used.update(ids)
            text = _clean_claim(sentence)
            if not any(ch.isalnum() for ch in text):  # markers alone: they belong to the claim before
                if claims:
                    claims[-1] = _merge(claims[-1], [cites[i] for i in ids])
                continue
            claims.append(_merge(DraftClaim(text, (), {}, line_no), [cites[i] for i in ids]))
        leftover = [cites[i] for i in range(len(cites)) if i not in used]
        if leftover and claims:
            claims[-1] = _merge(claims[-1], leftover)
    return claims, not_found


def _merge(claim: DraftClaim, cites: Sequence[_Cite]) -> DraftClaim:
    refs = list(claim.refs)
    quotes = {k: list(v) for k, v in claim.quotes.items()}
    for cite in cites:
        refs.extend(cite.refs)
        for r in cite.refs:
            quotes.setdefault(r, []).extend(cite.quotes)
    return DraftClaim(claim.text, tuple(dict.fromkeys(refs)), {k: tuple(v) for k, v in quotes.items()}, claim.line)


def _with_markers(text: str, numbers: Sequence[int]) -> str:
    marks = "".join(f"[{n}]" for n in numbers)
    if text and text[-1] in ".!?":
        return f"{text[:-1]} {marks}{text[-1]}"
    return f"{text} {marks}"


def has_checkable_content(text: str) -> bool:
    return bool(content_terms(text)) or extract_identifiers(text).count() > 0


def verify_draft(
    draft: str,
    passages: Sequence[Passage],
    *,
    embedder: Embedder | None = None,
    settings: AnswerSettings,
    mark_unsupported: bool = False,
    min_coverage: float | None = None,
    min_cosine: float | None = None,
) -> VerifiedDraft:
    """Verify `draft` against `passages` (numbered 1..n as in the prompt); see the module docstring."""
    claims, not_found = parse_draft(draft)
    views = [PassageView.build(p) for p in passages]
    lowercase_words: set[str] = set().union(*(v.lowercase_words for v in views)) if views else set()
    min_cov = settings.claim_min_coverage if min_coverage is None else min_coverage
    min_cos = settings.claim_min_cosine if min_cosine is None else min_cosine
    citations: list[Citation] = []
    cite_index: dict[tuple[str, int, int], int] = {}
    lines: dict[int, list[str]] = {}
    flagged: list[str] = []
    dropped: set[int] = set()
    notes: list[str] = []
    kept = moved = 0
    for claim in claims:
        valid = [r for r in claim.refs if 1 <= r <= len(passages)]
        dropped.update(r for r in claim.refs if not 1 <= r <= len(passages))
        if not has_checkable_content(claim.text):
            continue  # headings, "Sources:", bare "Yes": nothing a reader could be misled by
        result = None
        if valid:
            ids: Identifiers = extract_identifiers(claim.text)
            result = check_claim(
                claim.text, ids, [(r - 1, views[r - 1], claim.quotes.get(r, ())) for r in valid],
                lowercase_words=lowercase_words, min_coverage=min_cov, min_cosine=min_cos, embedder=embedder)
        if result is not None and result.supported and settings.recite:
            stronger = _stronger_elsewhere(claim.text, ids, views, valid, result, settings,
                                           lowercase_words=lowercase_words, min_coverage=min_cov,
                                           min_cosine=min_cos, embedder=embedder)
            if stronger is not None:
                result = stronger
                moved += 1
        if result is None or not result.supported:
            flagged.append(claim.text)
            if mark_unsupported:
                lines.setdefault(claim.line, []).append(UNSUPPORTED_PREFIX + claim.text)
            log.debug("claim flagged reason=%s refs=%d", result.reason if result else "uncited", len(valid))
            continue
        numbers = [_citation_number(ev, passages, citations, cite_index) for ev in result.evidence]
        notes.extend(ev.note for ev in result.evidence if ev.note)
        lines.setdefault(claim.line, []).append(_with_markers(claim.text, list(dict.fromkeys(numbers))))
        kept += 1
    text = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    log.info("verify claims=%d kept=%d moved=%d flagged=%d dropped_refs=%d not_found=%s", len(claims), kept, moved,
             len(flagged), len(dropped), not_found)
    return VerifiedDraft(text, tuple(citations), tuple(flagged), tuple(sorted(dropped)), not_found, kept,
                         tuple(dict.fromkeys(notes)), moved)


def _stronger_elsewhere(claim: str, ids: Identifiers, views: Sequence[PassageView], cited: Sequence[int],
                        result: ClaimResult, settings: AnswerSettings, *, lowercase_words: set[str],
                        min_coverage: float, min_cosine: float, embedder: Embedder | None) -> ClaimResult | None:
    """The uncited passage that supports a supported claim clearly better than its cited passages, or None."""
    best: ClaimResult | None = None
    for j, view in enumerate(views):
        if j + 1 in cited:
            continue
        cited_here = [(j, view, ())]
        lexical = check_claim(claim, ids, cited_here, lowercase_words=lowercase_words, min_coverage=min_coverage,
                              min_cosine=min_cosine)
        if not lexical.supported:  # the embedder only for real contenders
            continue
        other = lexical if embedder is None else check_claim(
            claim, ids, cited_here, lowercase_words=lowercase_words, min_coverage=min_coverage,
            min_cosine=min_cosine, embedder=embedder)
        closer = embedder is not None and other.cosine >= result.cosine + settings.move_cosine
        if other.supported and (other.coverage >= result.coverage + settings.move_coverage or closer) and (
                best is None or other.coverage + other.cosine > best.coverage + best.cosine):
            best = other
    if best is None:
        return None
    note = ("re-cited: the model cited " + ", ".join(f"passage {r}" for r in cited)
            + ", which states this less closely")
    return replace(best, evidence=tuple(replace(ev, note=note) for ev in best.evidence))


def _citation_number(ev: Evidence, passages: Sequence[Passage], citations: list[Citation],
                     index: dict[tuple[str, int, int], int]) -> int:
    p = passages[ev.index]
    key = (p.chunk_id, ev.start, ev.end)
    if key not in index:
        quote = p.text[ev.start : ev.end]
        verified = bool(quote) and p.text.find(quote) >= 0
        citations.append(Citation(n=len(citations) + 1, chunk_id=p.chunk_id, source=p.source, locator=p.locator,
                                  quote=quote, text=p.text, verified=verified, quote_start=ev.start, note=ev.note))
        index[key] = len(citations)
    return index[key]
