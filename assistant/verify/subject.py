"""The name a paragraph opens with, lent to its later sentences that refer back to it with a pronoun.

An encyclopedic or narrative paragraph names its subject once ("Yoko Ono is a Japanese artist. ... She is noted
for ...") and then says "he/she/it/they" or "the band/company/film". A claim that names the subject ("Yoko Ono is
noted for ...") was rejected whenever the naming sentence lay outside the evidence window (more than two sentences
back): on the HotpotQA verifier dev part (questions 40-99) 5 of the 31 rejected correct claims were such sentences
(evals/suites/verifier.py). Only the opening run of capitalised words of the paragraph's first sentence is lent,
only to sentences that open with such a pronoun, and only when that sentence alone is the evidence window (a lent
name never joins a neighbouring sentence into support); numbers, dates and other names must still be in the
sentence itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from assistant.text.lexicon import STOPWORDS, content_terms, words

MAX_SUBJECT_WORDS = 6
_PERSONAL = re.compile(r"\s*(He|She|It|They|His|Her|Its|Their)\b")
_CAPITALISED = re.compile(r"[\"“']?((?:[A-Z][\w'’.-]*)(?:[ \t]+(?:[A-Z][\w'’.-]*|of|de|du|van|von|der|la|le))*)")


class _Facts(Protocol):
    terms: set[str]
    words: set[str]
    text: str


def opening_subject(first_unit: str) -> str:
    """The capitalised run a paragraph opens with ("Deltha O'Neal", "Kathi-Anne Reinstein"), "" when it opens with
    a stopword ("The", "In", "On 3 May ...") or is longer than MAX_SUBJECT_WORDS words."""
    match = _CAPITALISED.match(first_unit.lstrip())
    if not match:
        return ""
    run = match.group(1).split()
    while run and run[-1].lower() in STOPWORDS:
        run.pop()
    if not run or run[0].lower() in STOPWORDS or len(run) > MAX_SUBJECT_WORDS:
        return ""
    return " ".join(run).rstrip(".")


def lend_subject(facts: Sequence[_Facts], unit_texts: Sequence[str], anaphoric: Sequence[bool]) -> str:
    """Add the paragraph's opening subject to the facts of each later unit that opens with a referring pronoun;
    the subject lent ("" when none)."""
    subject = opening_subject(unit_texts[0]) if unit_texts else ""
    if not subject:
        return ""
    lent_words = {w.lower().removesuffix("'s") for w in words(subject)}
    lent_terms = set(content_terms(subject))
    flat = " ".join(re.sub(r"[^\w\s'@.+-]", " ", subject.lower().replace("’", "'")).split())
    for k in range(1, len(unit_texts)):
        if anaphoric[k]:
            facts[k].words |= lent_words
            facts[k].terms |= lent_terms
            facts[k].text = f"{flat} {facts[k].text}"
    return subject


def named(evidence: str, subject: str) -> str:
    """Evidence opening with a personal pronoun, with the subject named instead ("He has sold ..." -> "Engelbert
    Humperdinck has sold ..."), so the role check compares the doer: an opposite verb ("has bought") on the same
    doer is then caught (HotpotQA corruptions, dev half)."""
    match = _PERSONAL.match(evidence) if subject else None
    if not match:
        return evidence
    owner = match.group(1) in ("His", "Her", "Its", "Their")
    return subject + ("'s" if owner else "") + evidence[match.end():]
