"""Which questions ask for a digest of a person, and for which period: "Summarise what Marek Wolski did in March
2023", "What did Marek Wolski do in March 2023?", "What do we know about Marek Wolski?", "Tell me about X"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from assistant.conversation.resolver import people
from assistant.text.lexicon import MONTHS

# A polite or indirect opening ("Can you ...", "Could you please ...", "I need ...") asks the same thing.
_POLITE = re.compile(r"^(?:(?:can|could|would|will)\s+(?:you|we|I)\s+(?:please\s+)?|please\s+|i\s+(?:need|want)\s+"
                     r"(?:you\s+)?to\s+|i'?d\s+like\s+(?:you\s+)?to\s+)", re.I)
_PERIOD = r"(?:\s+(?P<period>(?:in|during|on)\s+.+?))?[?.!]*$"
_ASKS = (
    re.compile(r"^(?:summari[sz]e|sum up|give (?:me )?a summary of)\s+(?:what\s+|everything\s+)?"
               r"(?P<who>.+?)(?:\s+(?:did|was doing|has done|does|has been doing|has been up to))?" + _PERIOD, re.I),
    re.compile(r"^what (?:did|has) (?P<who>.+?) (?:do|done|been doing|been up to)" + _PERIOD, re.I),
    re.compile(r"^what (?:was|is) (?P<who>.+?) (?:doing|up to)" + _PERIOD, re.I),
    re.compile(r"^(?:(?:tell me )?what (?:do |did )?we (?:know|have|hold|have got) (?:about|on)|what have we got on|"
               r"tell me (?:everything |all )?(?:you know |we know )?about|brief me on|"
               r"(?:give me |show me )?(?:a |an )?(?:profile|overview|summary|background|rundown) (?:of|on|for))\s+"
               r"(?P<who>.+?)" + _PERIOD, re.I),
)
_MONTH_YEAR = re.compile(r"^(?:in|during)\s+(?P<month>[a-z]+)\s+(?P<year>\d{4})$", re.I)
_YEAR = re.compile(r"^(?:in|during)\s+(?P<year>\d{4})$", re.I)
_DAY = re.compile(r"^on\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[a-z]+)\s+(?P<year>\d{4})$", re.I)


@dataclass(frozen=True)
class DigestRequest:
    person: str
    start: str = ""  # ISO day, inclusive; "" for no bound
    end: str = ""
    period: str = ""  # as written ("March 2023")


def period_bounds(text: str) -> tuple[str, str] | None:
    """("2023-03-01", "2023-03-31") for "in March 2023"; a year or one day likewise; None when not understood."""
    text = text.strip()
    if m := _DAY.match(text):
        month = MONTHS.get(m["month"].lower())
        if month:
            day = date(int(m["year"]), month, int(m["day"])).isoformat()
            return day, day
    if (m := _MONTH_YEAR.match(text)) and (month := MONTHS.get(m["month"].lower())):
        year = int(m["year"])
        last = calendar.monthrange(year, month)[1]
        return date(year, month, 1).isoformat(), date(year, month, last).isoformat()
    if m := _YEAR.match(text):
        return f"{m['year']}-01-01", f"{m['year']}-12-31"
    return None


def digest_request(question: str) -> DigestRequest | None:
    """The person (and period) a digest question is about; None for any other question, or when the period is
    written in a way that cannot be bounded (then the ordinary answer path runs)."""
    text = _POLITE.sub("", question.strip())
    for rx in _ASKS:
        m = rx.match(text)
        if m is None:
            continue
        # not sentence-initial: a lone first name counts; "Samir Haddad's activity" is about Samir Haddad
        names = [re.sub(r"['’]s$", "", n) for n in people(f"about {m['who']}")]
        if not names:
            return None
        period = (m["period"] or "").strip()
        if not period:
            return DigestRequest(names[0])
        bounds = period_bounds(period)
        if bounds is None:
            return None
        return DigestRequest(names[0], bounds[0], bounds[1], period.split(None, 1)[1])
    return None
