"""What kind of value a question asks for.

`expected_type` reads the question's head ("who", "when", "how much", "what passcode", "what is the name of",
"what registration", ...) and returns the coarse types it asks for; an empty `Expectation` means "unclear, no
gate" (most what/why/how questions). Compound questions ("When and where ...", "... and by whom?") expect any of
their clauses' types. A type is not expected when the question already holds a value of that type ("Whose number
is 07700 900418?" is a lookup, the number is given, not asked), nor for "Who is <Name>?" (asks for a description).
`assistant.answer.answer_type.satisfies` then checks a sentence against the expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.text.identifiers import extract_identifiers


class AnswerType(StrEnum):
    PERSON = "person"  # who / whom / whose / which officer
    NAME = "name"  # "what is the name of": a name, strictly (no "I", no pronoun context)
    NUMBER = "number"
    CODE = "code"
    DATE = "date"
    PHONE = "phone"
    REGISTRATION = "registration"
    VEHICLE = "vehicle"
    EMAIL = "email"
    HANDLE = "handle"
    PLACE = "place"


@dataclass(frozen=True)
class Expectation:
    """What a question asks for: any of `types` (empty: no gate). `code_nouns` are the words one of which must be
    near the digits for AnswerType.CODE ("passcode", "pin", ...)."""

    types: frozenset[AnswerType] = frozenset()
    code_nouns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.types)

    def label(self) -> str:
        return "+".join(sorted(t.value for t in self.types)) or "none"


NO_GATE = Expectation()

_WH = r"(?:who|whom|whose|when|where|what|which|how)"
_CLAUSE_SPLIT = re.compile(rf"(?:\s*,\s*|\s+)(?:and|or)\s+(?=(?:(?:by|to|for|with|from|at|in|on)\s+)?{_WH}\b)"
                           r"|\s*;\s*")
_LEAD_PREP = re.compile(r"^(?:by|to|for|with|from|at|in|on|of)\s+")
# (pattern, type, code nouns the sentence must show near the digits); most specific first
_CODE_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"pass ?codes?|unlock codes?|pin(?: numbers?| codes?)?|pins", ("passcode", "pass code", "pin", "code",
                                                                   "password")),
    (r"passwords?", ("password", "passcode", "pin", "code")),
    (r"passport(?: numbers?)?", ("passport",)),
    (r"(?:bank )?account numbers?", ("account",)),
    (r"sort codes?", ("sort code",)),
    (r"imei(?: numbers?)?", ("imei",)),
    (r"national insurance numbers?|ni numbers?", ("national insurance", "nino", "ni number")),
)
_HEAD_CUES: tuple[tuple[str, AnswerType], ...] = (
    (r"(?:(?:mobile|phone|telephone|contact|landline) numbers?|landlines?)", AnswerType.PHONE),
    (r"e-?mail(?: address(?:es)?)?", AnswerType.EMAIL),
    (r"(?:(?:snapchat|instagram|twitter|tiktok|social media) )?(?:handles?|user ?names?)", AnswerType.HANDLE),
    (r"(?:registrations?|reg)(?: numbers?| marks?)?|(?:number )?plates?|vrms?", AnswerType.REGISTRATION),
    (r"cars?|vehicles?|vans?|motorbikes?|motorcycles?", AnswerType.VEHICLE),
    (r"dates?(?: of birth)?|times?|days?|years?|months?|dob", AnswerType.DATE),
    (r"address(?:es)?|locations?|places?|streets?|roads?|towns?|city|cities|village", AnswerType.PLACE),
    (r"persons?|people|man|men|woman|women|officers?|solicitors?|interpreters?|witness(?:es)?|suspects?"
     r"|driver|drivers|names?", AnswerType.PERSON),
    (r"numbers?|amounts?|sums?|prices?|fares?|costs?|figures?|quantit(?:y|ies)|totals?|ages?", AnswerType.NUMBER),
)
_FILLER = r"(?:(?:is|was|are|were)\s+)?(?:(?:the|a|an|his|her|their|its|this|that|these|those)\s+)?"
_NOT_BETWEEN = frozenset("""did does do done has have had can could would will should shall may might happened
    happen happens on in at of to for with from about by after before during said say says told tell""".split())
# "what is the name of the pub" asks for a name, but not a person's
_NON_PERSON_NAMES = re.compile(r"\bnames?\s+of\s+(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+)?(?:[\w'-]+\s+)?"
                               r"(?:pub|bar|shop|store|company|firm|business|street|road|school|club|app|car|"
                               r"vehicle|boat|dog|hotel|restaurant|account|file|website|site|group|gang|operation|"
                               r"town|village|place|estate|ship|drug|game|song|book|film|programme|device|phone|"
                               r"network|brand|band|team|organisation|organization)\b")
_PHONE_CONTEXT = re.compile(r"\b(?:phones?|mobiles?|handsets?|iphone|sim|call(?:ed|s)?|text(?:ed|s)?"
                            r"|landlines?|dial(?:led)?|ring)\b")
_WHO_IS_NAME = re.compile(r"\s*(?i:who)\s+(?i:is|was|are|were)\s+(?!(?:The|A|An|This|That)\b)[A-Z]")


def _given_identifiers(question: str) -> dict[AnswerType, bool]:
    ids = extract_identifiers(question)
    long_number = any(sum(ch.isdigit() for ch in n) >= 6 for n in ids.numbers)
    return {AnswerType.PHONE: long_number, AnswerType.REGISTRATION: bool(ids.regs),
            AnswerType.VEHICLE: bool(ids.regs), AnswerType.EMAIL: bool(ids.emails),
            AnswerType.HANDLE: bool(ids.handles),
            AnswerType.PERSON: bool(long_number or ids.regs or ids.emails or ids.handles)}


# types whose values only the PII tagger finds reliably: checked only on passages that went through it
NER_TYPES = frozenset({AnswerType.PERSON, AnswerType.NAME, AnswerType.DATE, AnswerType.PLACE, AnswerType.VEHICLE})


def _head_type(clause: str, whole: str) -> tuple[AnswerType | None, tuple[str, ...]]:
    """Type asked by one lower-cased clause, (None, ()) when unclear."""
    clause = _LEAD_PREP.sub("", clause.strip())
    if re.match(r"(?:who|whom|whose)\b", clause):
        return AnswerType.PERSON, ()
    if re.match(r"when\b", clause):
        return AnswerType.DATE, ()
    if re.match(r"where\b", clause):
        return AnswerType.PLACE, ()
    if re.match(r"how (?:much|many|old)\b", clause):
        return AnswerType.NUMBER, ()
    head = re.match(rf"(?:what|which)\s+{_FILLER}((?:[\w'-]+\s+){{0,3}})", clause)
    if not head:
        return None, ()
    rest = clause[head.start(1):]
    between = head.group(1).split()
    for k in range(len(between) + 1):  # the cue may follow up to 3 words ("andrei popescu's passport number")
        if any(w in _NOT_BETWEEN for w in between[:k]):
            break
        at = " ".join(between[:k]) + (" " if k else "")
        tail = rest[len(at):] if rest.startswith(at) else ""
        for cue, nouns in _CODE_CUES:
            if re.match(rf"(?:{cue})\b", tail):
                return AnswerType.CODE, nouns
        for cue, kind in _HEAD_CUES:
            if not re.match(rf"(?:{cue})\b", tail):
                continue
            if kind is AnswerType.PERSON and re.match(r"names?\b", tail):
                return (None if _NON_PERSON_NAMES.search(clause) else AnswerType.NAME), ()
            if kind is AnswerType.NUMBER and re.match(r"numbers?\b", tail) and _PHONE_CONTEXT.search(whole):
                return AnswerType.PHONE, ()
            return kind, ()
    return None, ()


def expected_type(question: str) -> Expectation:
    """The coarse answer types `question` asks for (any one satisfies); empty when unclear."""
    low = " ".join(question.lower().replace("’", "'").split())
    if _WHO_IS_NAME.match(question):
        return NO_GATE  # "Who is Graham TULLY?" asks who he is, not for a name
    given = _given_identifiers(question)
    types: set[AnswerType] = set()
    nouns: tuple[str, ...] = ()
    # "When and where ...", "..., and by whom?": one clause per wh-word after "and"/"or"
    for clause in (c for c in _CLAUSE_SPLIT.split(low) if c.strip()):
        kind, found = _head_type(clause, low)
        if kind is None or given.get(kind, False):
            continue
        types.add(kind)
        nouns = nouns or found
    return Expectation(frozenset(types), nouns)
