"""Questions that ask several things at once ("Who was arrested on 22 March 2023, where, and what was found in the
car?", "When and where was Marek Wolski arrested?") are split into one question per part; each part is answered on
its own (its own retrieval, its own cited answer) and the answer says, part by part, what was found and which part
the material does not answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.conversation.resolver import Turn, people, resolve
from assistant.types import Answer, Citation, Passage, Status

_WH = r"(?:who|whom|whose|where|when|what|which|why|how(?:\s+much|\s+many|\s+long)?)"
_PAIR = re.compile(rf"^\s*(?P<a>{_WH})\s+and\s+(?P<b>{_WH})\s+(?P<rest>.+?)[?.!]*\s*$", re.I)
# "..., and for how much?", "... and from whom?": a part may open with a preposition before its wh-word.
_PREP = r"(?:(?:for|from|to|with|by|at|in|on)\s+)?"
_CUT = re.compile(rf",\s*(?:and\s+)?(?={_PREP}{_WH}\b)|\s+and\s+(?={_PREP}{_WH}\b)", re.I)
_BARE = re.compile(rf"^\s*{_PREP}{_WH}\s*$", re.I)
_LEAD = re.compile(rf"^\s*(?P<wh>{_WH})\s+(?P<aux>is|was|were|are|did|does|do|has|had)\s+(?P<rest>.+)$", re.I)
_DATE = re.compile(r"\bon\s+(?:\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})")
_IDENT = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b|(?<!\d)0\d{4}\s?\d{6}(?!\d)")
_IT = re.compile(r"\b(it|its)\b", re.I)


def _sentence(text: str) -> str:
    text = text.strip().rstrip("?.! ")
    return text[:1].upper() + text[1:] + "?"


def split_parts(question: str) -> list[str]:
    """One standalone question per part, or [] when the question asks one thing."""
    if m := _PAIR.match(question):
        return [_sentence(f"{m['a']} {m['rest']}"), _sentence(f"{m['b']} {m['rest']}")]
    clauses = [c.strip(" ,") for c in _CUT.split(question.strip().rstrip("?.! ")) if c.strip(" ,")]
    if len(clauses) < 2 or not re.match(rf"^\s*{_WH}\b", clauses[0], re.I):
        return []
    main = clauses[0]
    lead = _LEAD.match(main)
    date = _DATE.search(main)
    ident = _IDENT.search(main)
    parts = [_sentence(main)]
    for clause in clauses[1:]:
        if _BARE.match(clause):
            if lead is None:  # "Who sold the SIM cards, when, ...": no auxiliary to move, the topic goes in brackets
                topic = re.sub(rf"^\s*{_WH}\s+", "", main, flags=re.I)
                parts.append(_sentence(f"{clause} ({topic})"))
                continue
            subject = "the person" if lead["wh"].lower() == "who" else ""
            parts.append(_sentence(" ".join(x for x in (clause, lead["aux"], subject, lead["rest"]) if x)))
            continue
        if ident and _IT.search(clause):
            clause = _IT.sub(lambda m: ident.group(0) if m.group(1).lower() == "it" else f"{ident.group(0)}'s", clause)
        clause = resolve(clause, [Turn(main, main, "")]).standalone
        if date and not _DATE.search(clause):
            clause = f"{clause} {date.group(0)}"
        elif not (people(f"about {clause}") or _IDENT.search(clause) or _DATE.search(clause)):
            topic = lead["rest"] if lead else re.sub(rf"^\s*{_WH}\s+", "", main, flags=re.I)
            clause = f"{_IT.sub('the', clause)} ({topic})"  # "what was decided" alone names nothing to search for
        parts.append(_sentence(clause))
    return parts


def _renumber(text: str, offset: int) -> str:
    def shift(m: re.Match[str]) -> str:
        return f"[{int(m.group(1)) + offset}]"

    return re.sub(r"\[(\d{1,3})\]", shift, text)


def combine(question: str, case: str, parts: Sequence[str], answers: Sequence[Answer]) -> Answer:
    """One answer with a line per part (citations renumbered in order); a part with no evidence says so."""
    lines: list[str] = []
    citations: list[Citation] = []
    retrieved: dict[str, Passage] = {}
    notes: list[str] = []
    missing: list[str] = []
    for part, answer in zip(parts, answers, strict=True):
        if answer.status != "answered" or not answer.citations:
            lines.append(f"{part} Not found in the case material.")
            missing.append(part)
            continue
        offset = len(citations)
        text = _renumber(answer.answer, offset)
        lines.append(f"{part} {text}")
        citations += [replace(c, n=c.n + offset) for c in answer.citations]
        notes += [n for n in answer.notes if n not in notes]
    for rank in range(max((len(a.retrieved) for a in answers), default=0)):  # each part's best passages first
        for a in answers:
            if rank < len(a.retrieved):
                retrieved.setdefault(a.retrieved[rank].chunk_id, a.retrieved[rank])
    if missing:
        notes.append(f"Asked in {len(parts)} parts; not found for: {'; '.join(missing)}")
    status: Status = "answered" if citations else "no_evidence"
    first = answers[0] if answers else None
    return Answer(question, case, status, "\n".join(lines), first.backend if first else "extractive",
                  tuple(citations), tuple(retrieved.values()), model=first.model if first else "",
                  prompt_version=first.prompt_version if first else "", notes=tuple(notes),
                  flagged_claims=tuple(f for a in answers for f in a.flagged_claims))


def answer_parts(question: str, case: str, parts: Sequence[str], ask_one: Callable[[str], Answer]) -> Answer:
    return combine(question, case, parts, [ask_one(p) for p in parts])
