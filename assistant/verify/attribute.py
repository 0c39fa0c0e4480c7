"""Answer, then attribute: find the retrieved sentences that hold a model's short answer, to cite them.

A small model answers well in a few words and badly as a list of cited claims. The product therefore asks it for the
short answer only and attributes that answer itself:
- the answer's terms: numbers and identifiers must appear exactly; words match by stem ("elected" ~ "election"
  does not, "directed" ~ "direct" does), stopwords are ignored;
- a sentence holds the answer when it covers every number and at least `MIN_COVERAGE` of the terms; among those
  the one linked to the question's best sentence (same passage, or naming a name it names: the bridge) and then
  with the best question support is cited first;
- a bridge: the best-supported sentence of another shown passage that clears the support threshold is cited too
  (multi-hop questions join two passages);
- Yes/No to a yes/no question names no term: it is attributed to the best sentence of the best passage and, when
  it clears the threshold, of the next passage (a comparison cites both sides).
An answer whose terms appear in no sentence gets no attribution: the caller removes it and says so. The cited
sentences are then checked by the verifier like any claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.text.lexicon import STOPWORDS, stem

MIN_COVERAGE = 0.75  # share of a longer answer's words a sentence must hold (every number always)
# a date or time ("05/05/2024", "21:07") is one exact term: its parts alone would match another date ("04/05/2024")
_TOKEN = re.compile(r"\d+(?:[/:.]\d+)+|[^\W_]+(?:['’][^\W_]+)?")
_YES_NO_START = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b",
                           re.IGNORECASE)
_CHOICE = re.compile(r"\bor\b", re.IGNORECASE)


class Sentence(Protocol):
    @property
    def passage(self) -> int: ...  # 0-based index into the shown passages

    @property
    def text(self) -> str: ...

    @property
    def support(self) -> float: ...


@dataclass(frozen=True)
class Term:
    word: str  # case-folded
    stem: str
    exact: bool  # numbers and mixed letter/digit identifiers


def is_yes_no_question(question: str) -> bool:
    """"Were X and Y of the same nationality?" is; "Is X or Y older?" (a choice) and wh-questions are not."""
    return bool(_YES_NO_START.match(question)) and not _CHOICE.search(question)


def answer_terms(value: str) -> list[Term]:
    """The answer's checkable terms: stopwords dropped, numbers kept exact."""
    out: list[Term] = []
    for token in _TOKEN.findall(value.replace("’", "'")):
        low = token.casefold()
        if low.endswith("'s"):
            low = low[:-2]
        if low in STOPWORDS or (len(low) < 2 and not low.isdigit()):
            continue
        exact = any(c.isdigit() for c in low)
        out.append(Term(low, low if exact else stem(low), exact))
    return out


def _tokens(text: str) -> tuple[set[str], set[str]]:
    words = {t.casefold().removesuffix("'s") for t in _TOKEN.findall(text.replace("’", "'"))}
    return words, {stem(w) for w in words if not any(c.isdigit() for c in w)}


def coverage(terms: Sequence[Term], sentence: str) -> float:
    """Share of `terms` the sentence holds; 0 when an exact term (a number) is missing."""
    if not terms:
        return 0.0
    words, stems = _tokens(sentence)
    hit = 0
    for term in terms:
        found = term.word in words if term.exact else (term.word in words or term.stem in stems)
        if term.exact and not found:
            return 0.0
        hit += found
    return hit / len(terms)


def _holds(terms: Sequence[Term], sentence: str) -> bool:
    share = coverage(terms, sentence)
    return share >= 1.0 if len(terms) <= 2 else share >= MIN_COVERAGE


def _names(text: str) -> set[str]:
    """Capitalised words not opening the sentence: the names a bridge passes through."""
    tokens = _TOKEN.findall(text)
    return {t for t in tokens[1:] if t[:1].isupper() and t.casefold() not in STOPWORDS}


def _linked(sentence: Sentence, top: Sentence) -> bool:
    """In the passage of the question's best sentence, or naming someone or something that sentence names."""
    return sentence.passage == top.passage or bool(_names(sentence.text) & _names(top.text))


def _best_per_passage(sentences: Sequence[Sentence]) -> list[Sentence]:
    best: dict[int, Sentence] = {}
    for s in sentences:
        if s.passage not in best or s.support > best[s.passage].support:
            best[s.passage] = s
    return sorted(best.values(), key=lambda s: -s.support)


def attribute(value: str, question: str, sentences: Sequence[Sentence], threshold: float, *,
              bridge: bool = True) -> list[Sentence]:
    """The sentences to cite for the short answer `value` (first: the one holding it), or [] when no retrieved
    sentence holds it. `sentences` are the shown passages' sentences with their question support."""
    if value.casefold() in {"yes", "no"}:
        if not is_yes_no_question(question):
            return []
        tops = _best_per_passage(sentences)
        return [s for i, s in enumerate(tops[:2]) if i == 0 or s.support >= threshold]
    terms = answer_terms(value)
    holding = [s for s in sentences if _holds(terms, s.text)]
    if not holding:
        return []
    top = max(sentences, key=lambda s: s.support)
    first = max(holding, key=lambda s: (coverage(terms, s.text), _linked(s, top), s.support))
    cited = [first]
    if bridge:
        others = [s for s in _best_per_passage(sentences) if s.passage != first.passage and s.support >= threshold]
        cited.extend(others[:1])
    return cited
