"""A message's own date counts as what the message says about a date.

"Where did A tell B to meet him on 14 March?" is answered by a message sent on 14 March that says "today at seven
behind the station": the date is in the message's timestamp, not in its words. The extractive scorer reads each
message unit together with its line ("[2023-03-14T18:02:11+00:00] A → B: today at seven ..."), but an ISO timestamp
glued to its time by "T" is not read as a date. `with_dates_readable` makes it readable, and `dated_message` says
when such a message holds every identifier the question gives (its date included): it is then the message asked
about, even when it shares no other word with the question (the focus penalty does not apply to it), provided the
question asks for a kind of value (where, who, when, how much, ...) that the message must then hold.
"""

from __future__ import annotations

import re

from assistant.text.identifiers import Identifiers

_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2})T(?=\d{2}:\d{2})")


def with_dates_readable(line: str) -> str:
    """`line` with ISO timestamps' date part separated from the time ("2023-03-14T18:02" -> "2023-03-14 18:02")."""
    return _STAMP.sub(r"\1 ", line)


def dated_message(question_ids: Identifiers, typed: bool, is_message: bool, id_score: float) -> bool:
    """A message unit that holds all the question's identifiers, when the question names a date and asks for a kind
    of value (`typed`: the answer-type gate then still requires the message to hold one, so the date alone never
    makes a message of that day an answer; "What did A send on 4 May?" asks for no type and gets no exemption)."""
    return typed and is_message and bool(question_ids.dates) and id_score == 1.0
