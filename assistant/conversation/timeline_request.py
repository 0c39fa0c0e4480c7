"""Which questions ask for one person's timeline: "Timeline of Kacper Zielinski", "Give me a timeline of the times
Kacper went missing and what happened each time", "When did Kacper go missing?", "Chronology for Marek Wolski in
March 2023". A timeline between two people ("... of contact between X and Y") or of an identifier stays with the
links index (assistant.links.chat); any other question takes the ordinary path."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.conversation.digest_request import period_bounds
from assistant.conversation.resolver import people
from assistant.text.lexicon import content_terms

_TIMELINE_OF = re.compile(r"\b(?:timeline|chronology|sequence of events)\s+(?:of|for|about)\s+(?P<rest>.+?)[?.!]*$",
                          re.I)
# Going missing is the repeated event of these cases; the question asks for every episode, not one answer.
_MISSING = (r"(?:go|goes|went|gone|been|was|were|is|reported|being)\s+(?:reported\s+)?missing|disappear(?:ed)?"
            r"|run away|ran away|abscond(?:ed)?")
_WHEN_MISSING = re.compile(rf"^(?:when|how (?:many times|often))\s+(?:did|has|had|was|is)\s+(?P<who>.+?)\s+"
                           rf"(?P<what>{_MISSING})\b(?P<tail>.*?)[?.!]*$", re.I)
_PERIOD = re.compile(r"\s+(?P<period>(?:in|during|on)\s+(?:\d{1,2}(?:st|nd|rd|th)?\s+)?[A-Za-z]+(?:\s+\d{4})?|"
                     r"(?:in|during)\s+\d{4})\s*$", re.I)
# "List the dates X went missing", "the times X called Y": each occasion of an event is wanted, in order.
_OCCASIONS = re.compile(r"^(?:(?:list|give|show|tell)\s+(?:me\s+)?)?(?:all\s+)?(?:of\s+)?(?:the\s+)?"
                        r"(?:dates|times|occasions|days)\s+(?:when\s+|that\s+|on which\s+)?(?!of\s+birth\b)"
                        r"(?P<rest>.+?)[?.!]*$", re.I)
# "Put the events involving X in date order", "X's messages in chronological order".
_ORDERED = re.compile(r"^(?P<rest>.+?)\s+(?:in\s+(?:date|time|chronological)\s+order|chronologically|"
                      r"in\s+the\s+order\s+(?:they|it)\s+happened)(?P<tail>(?:\s+(?:in|during|on)\s+.+?)?)[?.!]*$",
                      re.I)
_VERB = re.compile(r"^(?:put|list|show|give|sort|arrange|set out)\s+(?:me\s+)?", re.I)
_BETWEEN = re.compile(r"\bbetween\b", re.I)
# Words of a timeline request that say how to list, not what happened ("the times X went missing and what happened
# each time"): never a topic.
_GENERIC = frozenset(content_terms("times time happened happen each every event events went go goes gone involving "
                                   "everything things thing did done involved all occasion occasions put list "
                                   "show give tell order dates date days"))
_NAME_STOP = frozenset("timeline chronology times time".split())


@dataclass(frozen=True)
class TimelineRequest:
    person: str
    topic: tuple[str, ...] = ()  # stemmed content words an event should hold ("missing"); () for every event
    start: str = ""  # ISO day, inclusive; "" for no bound
    end: str = ""
    period: str = ""  # as written ("March 2023")
    topic_text: str = ""  # the topic as written ("went missing")


def _person(text: str) -> str:
    names = [n for n in people(f"about {text}") if n.lower() not in _NAME_STOP]
    return re.sub(r"['’]s$", "", names[0]) if names else ""  # "Samir Haddad's messages": the person is Samir Haddad


def _topic(text: str, person: str) -> tuple[str, ...]:
    name = set(content_terms(person))
    return tuple(dict.fromkeys(t for t in content_terms(text) if t not in _GENERIC and t not in name))


def _split_period(text: str) -> tuple[str, str, str, str] | None:
    """(text without the period, start, end, period as written); None when a period is written but not understood."""
    m = _PERIOD.search(text)
    if m is None:  # a year outside a period we can bound ("in the spring of 2023") cannot be honoured
        return None if re.search(r"\b(?:19|20)\d{2}\b", text) else (text, "", "", "")
    bounds = period_bounds(m["period"])
    if bounds is None:
        return None if re.search(r"\d{4}", m["period"]) else (text, "", "", "")
    return text[:m.start()], bounds[0], bounds[1], m["period"].split(None, 1)[1]


def timeline_request(question: str) -> TimelineRequest | None:
    """The person (topic and period) a timeline question is about, or None for any other question."""
    text = " ".join(question.split())
    if m := _WHEN_MISSING.match(text):
        person = _person(m["who"])
        split = _split_period(m["tail"])
        if not person or split is None:
            return None
        return TimelineRequest(person, _topic(m["what"], person), *split[1:], topic_text=m["what"].lower())
    m = _TIMELINE_OF.search(text)
    if m is not None or (m := _OCCASIONS.match(text)):
        rest = m["rest"]
    elif m := _ORDERED.match(text):
        rest = _VERB.sub("", m["rest"]) + m["tail"]
    else:
        return None
    if _BETWEEN.search(rest):
        return None
    split = _split_period(rest)
    if split is None:
        return None
    rest = split[0]
    person = _person(rest)
    if not person or re.search(r"\d{5,}|\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b", rest):
        return None  # an identifier's timeline is the links index's
    topic = _topic(rest, person)
    return TimelineRequest(person, topic, *split[1:], topic_text=" ".join(
        w for w in rest.split() if content_terms(w) and set(content_terms(w)) <= set(topic)) if topic else "")
