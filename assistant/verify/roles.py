"""Who did what to whom: does a claim's predicate, agent, patient and negation agree with its evidence sentence?

The lexical checks of `assistant.support` accept "B arrested A" on evidence "A arrested B" (same words), and
"A released B" or "A walked from the van" on "A arrested B" / "A drove the van" (most words shared). This module
reads both sides with spaCy's dependency parse (the packaged en_core_web_md, loaded once, NER off, parser on; the
Presidio pipeline keeps its parser off) and extracts one `Predicate` per verb: lemma, agent, patient, negation.
Passive voice is normalised ("B was arrested by A" and "B, arrested by A" give agent A, patient B).

A claim predicate conflicts with the evidence (`conflict` returns a reason code, None when nothing conflicts) when:

- "roles": the evidence has the same verb but every occurrence has the arguments the other way round (the claim's
  agent is the evidence's patient or the reverse) or a different named agent/patient;
- "negation": the same verb, arguments aligned, but negated on one side only ("did not sign" vs "signed");
- "predicate": the evidence has the verb's opposite (CONTRARIES / CONVERSES, below) where, for a contrary pair, no
  participant differs or, for a converse pair, the doer is the same (or named on neither side);
  or the claim's main verb occurs nowhere in the evidence, not even as a word of its family (same stem: "founded" /
  "founder"), while the evidence has the claim's agent or patient doing or undergoing something else ("A walked from
  the van" vs "A drove the van"). Light verbs (be, have, take, ...), reporting verbs (say, write, ...: a message
  line or a quotation states them by its form) and negated verbs are never required.

Arguments match when they share their head word or one's content words hold the other's. Other pronouns (he, it,
they) are unknown: they neither match nor conflict, since the lexical checks already tie the claim to the right
passage. First person ("I", "me") is the narrator of a statement: it matches a claim argument only when every word
of that argument occurs in the passage's first unit (the heading that names the author, as `support.PassageView`
assumes for identifiers), and it conflicts with a claim argument that names someone else (a proper noun); a claim
argument that names nobody ("the officer") stays unknown. So "PC Dunmore arrested B" is supported by "I arrested B"
only in PC Dunmore's statement.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.text.lexicon import stem

# General English antonym pairs (contraries: the same patient cannot undergo both in one event; converses: the two
# verbs describe one transfer from opposite ends, so "B bought it from A" is "A sold it to B" and only the same doer
# conflicts). Chosen as common dictionary antonyms, not from any case file.
CONTRARIES = (("arrest", "release"), ("open", "close"), ("win", "lose"), ("accept", "reject"), ("confirm", "deny"),
              ("increase", "decrease"), ("rise", "fall"), ("start", "stop"), ("begin", "end"), ("hire", "fire"),
              ("include", "exclude"), ("arrive", "depart"), ("enter", "leave"), ("join", "leave"),
              ("remember", "forget"), ("pass", "fail"), ("succeed", "fail"), ("allow", "forbid"), ("love", "hate"),
              ("attack", "defend"), ("lock", "unlock"), ("load", "unload"), ("add", "remove"), ("push", "pull"),
              ("support", "oppose"), ("admit", "deny"), ("marry", "divorce"), ("appear", "disappear"),
              ("import", "export"), ("charge", "acquit"), ("convict", "acquit"), ("build", "demolish"))
CONVERSES = (("buy", "sell"), ("send", "receive"), ("give", "take"), ("lend", "borrow"), ("teach", "learn"),
             ("give", "receive"), ("pay", "receive"))
# Verbs too general to be the predicate a claim must share with its evidence.
LIGHT = frozenset("be have do get become make go come take give use include say know call name see seem keep put "
                  "let find show hold".split())
# Reporting verbs: a message line or a quotation states them by its form ("[14:02] A: ..." is "A wrote ...").
REPORTING = frozenset("say write tell text message reply ask answer state claim report mention add explain "
                      "describe comment".split())
_FIRST_PERSON = frozenset({"i", "me", "myself", "we", "us"})
_RELATIVE = frozenset({"who", "whom", "which", "that", "whose"})
_ARG_WORD_POS = frozenset({"PROPN", "NOUN", "NUM"})


def _pairs(pairs: Sequence[tuple[str, str]]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


_CONTRARY = _pairs(CONTRARIES)
_CONVERSE = _pairs(CONVERSES)


@dataclass(frozen=True)
class Arg:
    words: frozenset[str]  # lower-cased content words of the noun phrase (head, compounds, conjuncts)
    named: bool  # its head is a proper noun
    narrator: bool = False  # first person
    pronoun: str = ""  # a third-person pronoun ("it"): unknown, except against the very same pronoun
    head: str = ""  # lemma of the phrase's head word

    @property
    def known(self) -> bool:
        return self.narrator or bool(self.words)


@dataclass(frozen=True)
class Predicate:
    lemma: str
    agent: Arg | None
    patient: Arg | None
    negated: bool
    main: bool  # the sentence's root verb or a verb coordinated with it


_lock = threading.Lock()
_loaded: list[Any] = []


def _nlp() -> Any:
    """The packaged md pipeline with its parser on (never a download); loaded once per process, on first use."""
    with _lock:
        if not _loaded:
            import spacy

            from assistant.pii.tagger import spacy_model_location

            _loaded.append(spacy.load(spacy_model_location("md"), exclude=["ner"]))
        return _loaded[0]


def _arg(tok: Any) -> Arg:
    low = tok.lower_
    if low in _FIRST_PERSON:
        return Arg(frozenset(), False, True)
    toks = [tok, *(c for c in tok.children if c.dep_ in ("compound", "flat", "conj"))]
    toks += [g for c in toks[1:] if c.dep_ == "conj" for g in c.children if g.dep_ == "compound"]
    words = frozenset(t.lemma_.lower() for t in toks if t.pos_ in _ARG_WORD_POS and len(t.text) > 1)
    return Arg(words, tok.pos_ == "PROPN", pronoun=low if tok.pos_ == "PRON" else "", head=tok.lemma_.lower())


def _child(tok: Any, *deps: str) -> Any | None:
    return next((c for c in tok.children if c.dep_ in deps), None)


def _predicate(tok: Any) -> Predicate:
    passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in tok.children) or (
        tok.dep_ == "acl" and tok.tag_ == "VBN")
    by = _child(tok, "agent")
    agent_tok = _child(by, "pobj") if by is not None else None
    if not passive:
        agent_tok = _child(tok, "nsubj")
    patient_tok = _child(tok, "nsubjpass") if passive else _child(tok, "dobj")
    if passive and patient_tok is None and tok.dep_ == "acl":
        patient_tok = tok.head  # "a company founded by A"
    if agent_tok is not None and agent_tok.lower_ in _RELATIVE and tok.dep_ == "relcl":
        agent_tok = tok.head  # "the man who arrested B"
    if agent_tok is None and not passive and tok.dep_ in ("conj", "xcomp") and tok.head.pos_ == "VERB":
        controller = _child(tok.head, "dobj") if tok.dep_ == "xcomp" else None  # "A told B to meet her": B meets
        agent_tok = controller if controller is not None else _child(tok.head, "nsubj")  # "A arrived and arrested B"
    negated = any(c.dep_ == "neg" or c.lower_ in ("never", "no") for c in tok.children)
    main = tok.dep_ == "ROOT" or (tok.dep_ == "conj" and tok.head.dep_ == "ROOT")
    return Predicate(tok.lemma_.lower(), _arg(agent_tok) if agent_tok is not None else None,
                     _arg(patient_tok) if patient_tok is not None else None, negated, main)


@functools.lru_cache(maxsize=8192)
def predicates(text: str) -> tuple[tuple[Predicate, ...], frozenset[str]]:
    """The verb predicates of `text` (verbs, and verb forms tagged otherwise: "best selling") and the stems of the
    lemmas and forms of all its words (cached: evidence windows repeat)."""
    doc = _nlp()(text)
    preds = tuple(_predicate(t) for t in doc if t.pos_ == "VERB" or (t.tag_.startswith("VB") and t.pos_ != "AUX"))
    return preds, frozenset(stem(w) for t in doc for w in (t.lemma_.lower(), t.lower_))


@functools.lru_cache(maxsize=4096)
def governing_verbs(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
    """Per character span of `text` (a date, a name), the lemma of the nearest verb above it in the parse ("" when
    none): "23/03/2023" in "A was arrested, and released on bail on 23/03/2023" is governed by "release"."""
    doc = _nlp()(text)
    out: list[str] = []
    for start, end in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        tok = span.root if span is not None and len(span) else None
        while tok is not None and not (tok.pos_ == "VERB" or (tok.tag_.startswith("VB") and tok.pos_ != "AUX")):
            tok = tok.head if tok.head is not tok else None
        out.append(tok.lemma_.lower() if tok is not None else "")
    return tuple(out)


def _match(claim: Arg | None, ev: Arg | None, narrator: frozenset[str]) -> bool | None:
    """True (same participant), False (a different one) or None (cannot tell)."""
    if claim is None or ev is None:
        return None
    if claim.pronoun and claim.pronoun == ev.pronoun:
        return True  # "it was opened" / "it was closed": the same referent, whoever it is
    if not claim.known or not ev.known:
        return None
    if claim.narrator or ev.narrator:
        if claim.narrator and ev.narrator:
            return True
        other = ev if claim.narrator else claim
        if other.words and other.words <= narrator:
            return True
        return False if other.named else None
    # the same head, or one phrase inside the other ("Smith" / "Jane Smith"); a shared word alone is not enough:
    # "the Schick test" is not "Bela Schick"
    return claim.head == ev.head or claim.words <= ev.words or ev.words <= claim.words


def _fits(c: Predicate, e: Predicate, narrator: frozenset[str]) -> str | None:
    """Why evidence predicate `e` (same verb) is not the claim's event, or None when it may be."""
    agent, patient = _match(c.agent, e.agent, narrator), _match(c.patient, e.patient, narrator)
    # the claim's agent is the evidence's patient (and not its agent too), or the other way round
    if (_match(c.agent, e.patient, narrator) and not agent) or (_match(c.patient, e.agent, narrator) and not patient):
        return "roles"
    # one role the same participant, the other a different named one: "A arrested C" vs "A arrested B"
    named_clash = any(m is False and other is True and a is not None and a.named and b is not None
                      and (b.named or b.narrator)
                      for m, other, a, b in ((agent, patient, c.agent, e.agent),
                                             (patient, agent, c.patient, e.patient)))
    return "roles" if named_clash else None


def _opposite_conflict(c: Predicate, evidence: Sequence[Predicate], narrator: frozenset[str]) -> bool:
    for e in evidence:
        if e.negated != c.negated:
            continue  # "did not release" is consistent with "arrested"
        agent, patient = _match(c.agent, e.agent, narrator), _match(c.patient, e.patient, narrator)
        if e.lemma in _CONTRARY.get(c.lemma, ()) and agent is not False and patient is not False:
            return True  # nothing says it is another event: "from left to right" / "from entered to right"
        no_doer = c.agent is None and e.agent is None and patient is not False  # "the best-selling brand"
        if e.lemma in _CONVERSE.get(c.lemma, ()) and (agent or no_doer):
            return True
    return False


def _opposite_word(claim_stems: frozenset[str], ev_stems: set[str], compared: set[str]) -> bool:
    """A word of the claim, not among the verbs already `compared`, whose opposite (and not itself) is in the
    evidence: "the best-buying brand" vs "the best-selling brand", where the parse finds no verb to compare."""
    return any(a not in compared and stem(a) in claim_stems and stem(a) not in ev_stems and stem(b) in ev_stems
               and stem(b) not in claim_stems for a, opposites in (*_CONTRARY.items(), *_CONVERSE.items())
               for b in opposites)


def conflict(claim: str, evidence: Sequence[str], narrator: str = "") -> str | None:
    """The reason code ("roles", "negation", "predicate") why `claim` disagrees with the evidence sentences, or
    None. `narrator` is the text naming a statement's author (its heading), for first-person evidence."""
    claim_preds, claim_stems = predicates(claim)
    ev_preds: list[Predicate] = []
    ev_lemmas: set[str] = set()
    for text in evidence:
        p, lemmas = predicates(text)
        ev_preds.extend(p)
        ev_lemmas |= lemmas
    author = frozenset(w.lower() for w in re.findall(r"[^\W\d_]+", narrator))
    for c in claim_preds:
        same = [e for e in ev_preds if e.lemma == c.lemma]
        if same:
            fitting = [e for e in same if _fits(c, e, author) is None]
            if not fitting:
                return "roles"
            if all(e.negated != c.negated for e in fitting):
                return "negation"
            continue
        if _opposite_conflict(c, ev_preds, author):
            return "predicate"
        converse = any(e.lemma in _CONVERSE.get(c.lemma, ()) for e in ev_preds)  # "B bought" = "A sold to B"
        required = c.main and not c.negated and not converse and c.lemma not in LIGHT | REPORTING
        if required and stem(c.lemma) not in ev_lemmas and any(
                e.lemma not in LIGHT and (_match(c.agent, e.agent, author) or _match(c.patient, e.patient, author))
                for e in ev_preds):
            return "predicate"  # the evidence says its participant does something else, never the claim's verb
    return "predicate" if _opposite_word(claim_stems, ev_lemmas, {c.lemma for c in claim_preds}) else None
