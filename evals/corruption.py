"""Corrupt one claim sentence in one way at a time (deterministic; the parse is the packaged spaCy md model's).

Kinds: "role_swap" (a verb's agent and patient phrases exchanged), "verb_opposite" (a verb replaced by its
antonym from `assistant.verify.roles`' general-English pairs, inflected to the same tense), "verb_other" (the main
verb replaced by the main verb of another source sentence, same tense: "walked" for "drove"), "negation" ("not"
after the main verb's auxiliary, or do-support), "number", "date" (a year or month) and "name" (a capitalised run),
the last three replaced by a value of the same kind from other sentences that does not occur in the evidence passage.

The role and verb corruptions are built from the same parser the verifier uses: where the parser misreads a
sentence, the corruption and the check can err together, so the catch rate is an upper bound for those kinds on
misparsed sentences (the unit tests in tests/test_roles.py use hand-written sentences instead).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from assistant.verify.roles import CONTRARIES, CONVERSES, _nlp

MONTHS = ("January February March April May June July August September October November "
          "December").split()
_YEAR = re.compile(r"\b(1[5-9]\d\d|20[0-4]\d)\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]+(?: [A-Z][a-z]+)*)")
_IRREGULAR = {  # base: (past, past participle, 3rd person)
    "buy": ("bought", "bought"), "sell": ("sold", "sold"), "send": ("sent", "sent"), "give": ("gave", "given"),
    "take": ("took", "taken"), "lend": ("lent", "lent"), "teach": ("taught", "taught"), "pay": ("paid", "paid"),
    "win": ("won", "won"), "lose": ("lost", "lost"), "leave": ("left", "left"), "fall": ("fell", "fallen"),
    "rise": ("rose", "risen"), "begin": ("began", "begun"), "forget": ("forgot", "forgotten"),
    "forbid": ("forbade", "forbidden"), "build": ("built", "built"), "stop": ("stopped", "stopped"),
    "end": ("ended", "ended"), "learn": ("learned", "learned"), "demolish": ("demolished", "demolished"),
}
_OPPOSITE: dict[str, str] = {}
for _a, _b in (*CONTRARIES, *CONVERSES):
    _OPPOSITE.setdefault(_a, _b)
    _OPPOSITE.setdefault(_b, _a)


def inflect(base: str, tag: str) -> str:
    """`base` in the form of Penn tag `tag` (VB, VBP, VBZ, VBD, VBN, VBG)."""
    past, participle = _IRREGULAR.get(base, ("", ""))
    if not past:
        stem = base[:-1] if base.endswith("e") else base[:-1] + "i" if re.search(r"[^aeiou]y$", base) else base
        past = participle = stem + "ed"
    if tag == "VBD":
        return past
    if tag == "VBN":
        return participle
    if tag == "VBZ":
        return base[:-1] + "ies" if re.search(r"[^aeiou]y$", base) else base + (
            "es" if re.search(r"(s|sh|ch|x|z|o)$", base) else "s")
    if tag == "VBG":
        return (base[:-1] if base.endswith("e") and not base.endswith("ee") else base) + (
            base[-1] if base == "stop" else "") + "ing"
    return base


def _cap(text: str, at_start: bool) -> str:
    """`text` capitalised for its new place: first letter up at the sentence start, an article down elsewhere."""
    if at_start and text[:1].islower():
        return text[0].upper() + text[1:]
    if not at_start and text.split(" ", 1)[0] in ("The", "A", "An", "This", "It"):
        return text[0].lower() + text[1:]
    return text


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + _cap(new, start == 0) + text[end:]


def _root(doc: Any) -> Any | None:
    return next((t for t in doc if t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX")), None)


def role_swap(doc: Any) -> str | None:
    for verb in sorted((t for t in doc if t.pos_ == "VERB"), key=lambda t: t.dep_ != "ROOT"):
        kids = {c.dep_: c for c in verb.children}
        if "nsubj" in kids and "dobj" in kids:
            a, b = kids["nsubj"], kids["dobj"]
        elif "nsubjpass" in kids and "agent" in kids and any(c.dep_ == "pobj" for c in kids["agent"].children):
            a, b = kids["nsubjpass"], next(c for c in kids["agent"].children if c.dep_ == "pobj")
        else:
            continue
        if a.pos_ == "PRON" or b.pos_ == "PRON" or a.lower_ == b.lower_:
            continue
        sa, sb = (a.left_edge.idx, a.right_edge.idx + len(a.right_edge)), (b.left_edge.idx,
                                                                          b.right_edge.idx + len(b.right_edge))
        if not (sa[1] <= sb[0]) or (a.right_edge.i - a.left_edge.i) > 6 or (b.right_edge.i - b.left_edge.i) > 6:
            continue
        text = doc.text
        pa, pb = text[sa[0]:sa[1]], text[sb[0]:sb[1]]
        return text[:sa[0]] + _cap(pb, sa[0] == 0) + text[sa[1]:sb[0]] + _cap(pa, False) + text[sb[1]:]
    return None


def verb_opposite(doc: Any) -> str | None:
    for t in doc:
        if t.pos_ == "VERB" and t.lemma_.lower() in _OPPOSITE and t.tag_.startswith("VB"):
            return _replace(doc.text, t.idx, t.idx + len(t), inflect(_OPPOSITE[t.lemma_.lower()], t.tag_))
    return None


def verb_other(doc: Any, pool: Sequence[tuple[str, str, str]], rng: random.Random) -> str | None:
    """The main verb replaced by another sentence's main verb of the same tense (pool: (lemma, tag, form))."""
    root = _root(doc)
    if root is None or root.pos_ != "VERB" or root.lemma_.lower() in ("be", "have"):
        return None
    lemmas = {t.lemma_.lower() for t in doc}
    options = [form for lemma, tag, form in pool if tag == root.tag_ and lemma not in lemmas]
    if not options:
        return None
    return _replace(doc.text, root.idx, root.idx + len(root), rng.choice(options))


def negation(doc: Any) -> str | None:
    root = _root(doc)
    if root is None or any(c.dep_ == "neg" for c in root.children):
        return None
    aux = next((c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i), None)
    text = doc.text
    if aux is not None:
        return text[: aux.idx + len(aux)] + " not" + text[aux.idx + len(aux):]
    if root.lemma_ == "be" or root.tag_ not in ("VBD", "VBZ", "VBP"):
        return text[: root.idx + len(root)] + " not" + text[root.idx + len(root):] if root.lemma_ == "be" else None
    do = {"VBD": "did", "VBZ": "does", "VBP": "do"}[root.tag_]
    return text[: root.idx] + f"{do} not {root.lemma_.lower()}" + text[root.idx + len(root):]


def replace_value(claim: str, evidence: str, kind: str, pool: Sequence[str], rng: random.Random) -> str | None:
    """One number / date / name of `claim` replaced by a pool value of the same kind absent from the evidence."""
    low = evidence.lower()
    if kind == "date":
        found = [(m.start(), m.end()) for m in _YEAR.finditer(claim)]
        found += [(m.start(), m.end()) for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\b", claim)]
    elif kind == "number":
        found = [(m.start(), m.end()) for m in _NUMBER.finditer(claim) if not _YEAR.fullmatch(m.group(0))]
    else:
        found = [(m.start(), m.end()) for m in _NAME.finditer(claim)]
    if not found:
        return None
    start, end = found[0]
    old = claim[start:end]
    if kind == "date" and old in MONTHS:
        options = [m for m in MONTHS if m.lower() not in low]
    else:
        options = [v for v in pool if v != old and v.lower() not in low and re.sub(r"\D", "", v) not in
                   re.sub(r"[^\d ]", " ", evidence).split()]
    if not options:
        return None
    return claim[:start] + rng.choice(options) + claim[end:]


def pools(sentences: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"date": [], "number": [], "name": []}
    for s in sentences:
        out["date"].extend(m.group(0) for m in _YEAR.finditer(s))
        out["number"].extend(m.group(0) for m in _NUMBER.finditer(s) if not _YEAR.fullmatch(m.group(0)))
        out["name"].extend(m.group(0) for m in _NAME.finditer(s))
    return {k: sorted(set(v)) for k, v in out.items()}


def verb_pool(docs: Sequence[Any]) -> list[tuple[str, str, str]]:
    out = set()
    for doc in docs:
        root = _root(doc)
        if root is not None and root.pos_ == "VERB" and root.lemma_.lower() not in ("be", "have", "do"):
            out.add((root.lemma_.lower(), root.tag_, root.text.lower()))
    return sorted(out)


def corrupt_all(claim: str, evidence: str, doc: Any, value_pool: dict[str, list[str]],
                verbs: Sequence[tuple[str, str, str]], rng: random.Random) -> dict[str, str]:
    """Every corruption of `claim` that applies, by kind (a kind is absent when the sentence has no slot for it)."""
    out = {"role_swap": role_swap(doc), "verb_opposite": verb_opposite(doc), "verb_other": verb_other(doc, verbs, rng),
           "negation": negation(doc)}
    for kind in ("number", "date", "name"):
        out[kind] = replace_value(claim, evidence, kind, value_pool[kind], rng)
    return {k: v for k, v in out.items() if v and v != claim}


def parse(texts: Sequence[str]) -> list[Any]:
    return list(_nlp().pipe(texts, batch_size=64))
