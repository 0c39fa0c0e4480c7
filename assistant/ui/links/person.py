"""One person's timeline in the Links tab: the code of `assistant timeline --person` (conversation.person_timeline,
every passage of the case), with an optional period ("March 2023", "2023", "22 March 2023") and topic, shown through
the role's `LinkView` like the case timeline: protected persons masked for roles without clearance, a person or topic
naming one refused and audited as `denied`, strict roles refused, each view audited."""

from __future__ import annotations

import re
from typing import Any

from assistant.access.auth import UserError
from assistant.access.session import Session

PERSON_HEADERS = ["date", "also dated", "line (quoted from its source)", "source", "locator"]
PERSON_WIDTHS: list[str | int] = ["11%", "9%", "50%", "15%", "15%"]
# The answer line's own date and "(also names …)" (already in the first two columns); a masked date too.
_LEAD = re.compile(r"^(?:\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?|<PROTECTED_\d+_DOB>)(?: \(also names [^)]*\))?:? ?")


def period_of(text: str) -> tuple[str, str]:
    """(first day, last day) of a typed period, ("", "") when none is typed; a period not understood is refused."""
    from assistant.conversation.digest_request import period_bounds

    text = " ".join((text or "").split())
    if not text:
        return "", ""
    for candidate in (text, f"in {text}", f"on {text}"):
        if bounds := period_bounds(candidate):
            return bounds
    raise UserError(f"period {text!r} not understood: give a month and year (March 2023), a year (2023) or a day "
                    "(22 March 2023), or leave it empty")


def person_timeline(session: Session, case: str, person: str, period: str = "",
                    about: str = "") -> tuple[str, list[list[str]]]:
    """(summary in Markdown, one row per line: dated events in time order, then undated mentions)."""
    from assistant.answer.message_cite import pin_messages
    from assistant.conversation.person_timeline import collect, timeline_answer, timeline_json
    from assistant.conversation.routes import case_passages
    from assistant.conversation.timeline_request import TimelineRequest
    from assistant.text.lexicon import content_terms
    from assistant.ui.links_tab import app_of, link_view
    from assistant.ui.render import md_text

    case_id, person, about = session.require_case(case), " ".join((person or "").split()), (about or "").strip()
    if not person:
        raise UserError("type the person's name (or part of it) for a person timeline")
    start, end = period_of(period)
    view = link_view(session, [case_id], "person timeline", f"{person} {about}".strip())
    request = TimelineRequest(person, tuple(dict.fromkeys(content_terms(about))), start=start, end=end,
                              period=" ".join((period or "").split()), topic_text=about)
    timeline = collect(case_passages(app_of(session).store, case_id, None), request)
    answer, entries = timeline_answer(person, case_id, timeline, cap=False)
    shown = view.answer(pin_messages(answer))  # a message citation names its one message
    data: dict[str, Any] = timeline_json(shown, entries, timeline, view.text)
    rows = [[e["when"][:16].replace("T", " ") or "(undated)", ", ".join(e["also"]), _LEAD.sub("", e["line"]),
             e["citation"]["source"], e["citation"]["locator"]] for e in data["events"] + data["undated"]]
    lines = shown.answer.splitlines()
    gaps = lines[lines.index("Gaps:") + 1:] if "Gaps:" in lines else []
    summary = [lines[0] if lines else "", *(ln for ln in lines[1:3] if ln.startswith("No event")), *gaps]
    return "\n\n".join(md_text(line) for line in summary if line), rows
