"""Chat tab handlers: plain functions over a Session and plain values (testable without a browser)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from assistant.access.session import Session
from assistant.errors import AssistantError
from assistant.types import Answer, RetrievalFilters
from assistant.ui.render import answer_markdown, backend_html, citation_choices, esc, md_text, passage_html

log = logging.getLogger(__name__)

ENTITY_TYPES: tuple[str, ...] = (
    "", "PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "LOCATION", "DATE_TIME", "UK_NINO", "UK_POSTCODE",
    "UK_VEHICLE_REGISTRATION", "UK_DRIVING_LICENCE", "UK_PASSPORT", "UK_NHS", "IBAN_CODE", "CREDIT_CARD", "IMEI",
    "UK_SORT_CODE", "UK_BANK_ACCOUNT", "UK_PNC_ID", "UK_CRO_NUMBER", "SOCIAL_HANDLE", "UK_ADDRESS",
)
PENDING = "_Searching the case material…_"
# shown above streamed text: nothing in it is checked yet; the verified answer replaces it when generation ends
DRAFT_LABEL = ('<span class="warn">Draft as it is written: not yet checked. Claims the passages do not support are '
               "removed before the answer is final.</span>\n\n")

ChatHistory = list[dict[str, str]]


def ttft_html(first_s: float) -> str:
    """Time from the question to the model's first words ("" when no model text was streamed)."""
    return f'<span class="ttft">First words after {first_s:.1f} s.</span>' if first_s >= 0 else ""


@dataclass(frozen=True)
class ChatUpdate:
    """One state of the chat while an answer streams in; `answer` is set on the final update."""

    history: ChatHistory
    answer: Answer | None = None
    backend: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)


_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def filter_date(value: str, label: str) -> str:
    """A typed filter date as ISO YYYY-MM-DD ("" when empty). Accepts 2023-03-14 and the UK form 14/03/2023;
    anything else ("March 2023", "14.3.") is refused with a message, never silently matched as text."""
    text = (value or "").strip()
    if not text:
        return ""
    if iso := _ISO_DAY.match(text):
        year, month, day = iso.groups()
    elif uk := _UK_DAY.match(text):
        day, month, year = uk.groups()
    else:
        return _refuse(text, label)
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return _refuse(text, label)


def _refuse(text: str, label: str) -> str:
    raise AssistantError(f"{label} {text!r} is not a date: write it as YYYY-MM-DD (2023-03-14) or DD/MM/YYYY "
                         "(14/03/2023)")


def make_filters(date_from: str = "", date_to: str = "", sender: str = "", source: str = "",
                 entity_type: str = "") -> RetrievalFilters | None:
    """The form's filters; bad dates, or a from-date after the to-date, raise `AssistantError` with the fix."""
    start, end = filter_date(date_from, "From date"), filter_date(date_to, "To date")
    if start and end and start > end:
        raise AssistantError(f"From date {start} is after To date {end}: swap them")
    filters = RetrievalFilters(date_from=start, date_to=end,
                               sender=(sender or "").strip(), source=(source or "").strip(),
                               entity_type=(entity_type or "").strip())
    return None if filters.is_empty() else filters


def ask(session: Session, case: str, question: str, history: ChatHistory | None = None,
        filters: RetrievalFilters | None = None, purpose: str = "") -> Iterator[ChatUpdate]:
    """Stream an answer into the chat history. Access to `case` is checked by the Session before anything runs;
    `purpose` (the stated reason) is recorded with the question."""
    session.require_case(case)
    past = list(history or [])
    text = (question or "").strip()
    turns = [*past, {"role": "user", "content": md_text(text)}]
    yield ChatUpdate([*turns, {"role": "assistant", "content": PENDING}])
    partial = ""
    started = time.perf_counter()
    first_s = -1.0
    for item in session.ask_stream(case, text, filters, purpose=purpose):
        if isinstance(item, Answer):
            final = [*turns, {"role": "assistant", "content": answer_markdown(item)}]
            log.info("chat_answer user=%s case=%s status=%s citations=%d first_piece_s=%.2f", session.user.username,
                     case, item.status, len(item.citations), first_s)
            info = backend_html(item, session.app.settings.llm.smoke_models) + ttft_html(first_s)
            yield ChatUpdate(final, item, info, citation_choices(item))
            return
        if first_s < 0:
            first_s = time.perf_counter() - started
        partial += item
        label = DRAFT_LABEL + ttft_html(first_s) + "\n\n"
        yield ChatUpdate([*turns, {"role": "assistant", "content": label + md_text(partial)}])
    raise RuntimeError("the answer stream ended without a final answer")


def open_citation(session: Session, answer: Answer | None, choice: str | int | None) -> str:
    """Side-panel HTML for citation [n] of the current answer; the passage is re-read through the Session, so
    the case is access-checked again and PII is masked for the role."""
    if answer is None or choice in (None, ""):
        return '<div class="passage-panel empty">Click a citation to see its passage.</div>'
    try:
        n = int(str(choice).strip().strip("[]"))
    except ValueError:
        return f'<div class="warn">Unknown citation {esc(choice)}.</div>'
    citation = next((c for c in answer.citations if c.n == n), None)
    if citation is None:
        return f'<div class="warn">The answer has no citation [{n}].</div>'
    session.require_case(answer.case)
    passage = session.get_chunk(answer.case, citation.chunk_id, context=answer)
    if passage is None:
        log.info("citation_chunk_missing case=%s chunk_id=%s", answer.case, citation.chunk_id)
    return passage_html(citation, passage)

