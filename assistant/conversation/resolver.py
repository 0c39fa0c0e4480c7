"""Deterministic follow-up resolution: "What car does he drive?" after "Who is Marek Wolski?" becomes "What car does
Marek Wolski drive?". References (he/she/him/his/her, "that number", "that car", "the same day", "that day")
are replaced by the most recent matching referent of the conversation: a person named in the previous question (the
topic), else in the previous answer; a phone number, registration or date in the previous answer, else question.
A pronoun after a name in the same question refers to that name and is left as it is; a question with no
reference is left as it is. Nothing is guessed: a reference
with no referent leaves the question unchanged and says so."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.text.lexicon import MONTH_NAMES


@dataclass(frozen=True)
class Turn:
    """One exchange as the user saw it: the question typed, the standalone question searched, the answer text."""

    question: str
    searched: str
    answer: str = ""


@dataclass(frozen=True)
class Resolution:
    question: str  # as typed
    standalone: str  # what is searched
    replaced: tuple[tuple[str, str], ...] = ()  # (reference, referent)
    unresolved: str = ""  # a reference with nothing earlier to point at

    @property
    def rewritten(self) -> bool:
        return self.standalone != self.question


_MONTHS = "|".join(m for m in MONTH_NAMES if m)
_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\s+\d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
                   rf"|\b\d{{1,2}}/\d{{1,2}}/\d{{4}}\b|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I)
_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?7\d{3}|07\d{3})\s?\d{3}\s?\d{3}(?!\d)"
                    r"|(?<![\w+])(?:\+44\s?|0)1\d{3}\s?\d{6}\b")
_REG = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
_WORD = r"[A-Z][a-zà-žA-Z'’-]+"
_NAME = re.compile(rf"\b{_WORD}(?:\s+{_WORD}){{0,2}}\b")
_NOT_NAMES = frozenset(
    "who whom whose what when where which why how is was are were did does do has have had can could would should "
    "will the a an and or but in on at of to for from by with about after before during this that these those it "
    "he she they his her their him them give list show tell summarise summarize find name describe i we you my our "
    "not found case material yes no please also then same".split()) | {m.lower() for m in MONTH_NAMES if m}

_PRONOUNS = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)  # they/them: a group, never one person
_NUMBER_REF = re.compile(r"\b(?:that|this|the same|the)\s+(?:phone\s+)?number\b", re.I)
_CAR_REF = re.compile(r"\b(?:that|this|the same)\s+(?:car|vehicle|registration)\b", re.I)
_DAY_REF = re.compile(r"\b(?:on\s+)?(?:that|the same|this)\s+(?:day|date)\b", re.I)
_FOLLOWS_HER_AS_OBJECT = frozenset("and or to on in at about with from for by ? . , ! again last first".split())


def people(text: str) -> list[str]:
    """Capitalised 1-3 word names of `text`, in order; question words, months and sentence-initial
    function words are not names."""
    found: list[str] = []
    for m in _NAME.finditer(text):
        words = [w for w in m.group(0).split() if w.lower() not in _NOT_NAMES]
        if not words or (len(words) == 1 and m.start() == 0 and words[0] == m.group(0).split()[0]
                         and len(m.group(0).split()) == 1):
            continue
        name = " ".join(words)
        if name not in found:
            found.append(name)
    return found


def _first(rx: re.Pattern[str], texts: Sequence[str]) -> str:
    for text in texts:
        if m := rx.search(text):
            return m.group(0)
    return ""


_WHO_IS = re.compile(r"^\s*(?i:who)\s+(?:is|was)\s+[A-Z]")
_WHO = re.compile(r"^\s*who\b", re.I)


def _person(turns: Sequence[Turn]) -> str:
    """The most recent person of the conversation. "Who is X?" is about X; another "Who ...?" ("Who runs FixIt
    Mobiles?") asks for a person, so the answer's person comes first; any other question is about its names."""
    for turn in reversed(turns):
        answer_first = bool(_WHO.match(turn.searched)) and not _WHO_IS.match(turn.searched)
        for text in ((turn.answer, turn.searched) if answer_first else (turn.searched, turn.answer)):
            names = [n for n in people(text) if not n.startswith("<")]
            if names:
                return names[0]
    return ""


def _swap_pronoun(question: str, person: str) -> tuple[str, list[tuple[str, str]]]:
    """Pronouns with no name before them in the question itself ("Did Marek say he ..." keeps its "he")."""
    replaced: list[tuple[str, str]] = []

    def sub(m: re.Match[str]) -> str:
        if people(question[:m.start()]):
            return m.group(0)
        word = m.group(1).lower()
        if word in ("his", "hers"):
            out = f"{person}'s"
        elif word == "her":
            after = question[m.end():].split(maxsplit=1)
            nxt = after[0].lower().strip("?.,!") if after else "?"
            out = f"{person}'s" if nxt and nxt not in _FOLLOWS_HER_AS_OBJECT else person
        else:
            out = person
        replaced.append((m.group(0), out))
        return out

    return _PRONOUNS.sub(sub, question), replaced


def resolve(question: str, turns: Sequence[Turn]) -> Resolution:
    """The standalone form of `question` given the earlier `turns` (oldest first)."""
    text = question.strip()
    if not turns:
        return Resolution(text, text)
    last = turns[-1]
    recent = [last.answer, last.searched]
    out, replaced, missing = text, [], []
    for rx, kind, referent in ((_NUMBER_REF, "number", _first(_PHONE, recent)),
                               (_CAR_REF, "vehicle", _first(_REG, recent)),
                               (_DAY_REF, "day", _first(_DATE, [last.searched, last.answer]))):
        if m := rx.search(out):
            if not referent:
                missing.append(kind)
                continue
            joined = f"on {referent}" if kind == "day" else referent
            out = out[:m.start()] + joined + out[m.end():]
            replaced.append((m.group(0), joined))
    if any(not people(out[:p.start()]) for p in _PRONOUNS.finditer(out)):
        person = _person(turns)
        if person:
            out, swapped = _swap_pronoun(out, person)
            replaced += swapped
        else:
            missing.append("person")
    unresolved = f"nothing earlier in the conversation for: {', '.join(missing)}" if missing else ""
    return Resolution(text, out, tuple(replaced), unresolved)
