"""Chat tab handlers: plain functions over a Session and plain values (testable without a browser)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.access.requests import clean_question
from assistant.access.session import Session
from assistant.conversation.resolver import Turn, resolve
from assistant.conversation.rewrite import model_rewrite
from assistant.conversation.store import ConversationStore
from assistant.errors import AssistantError, EmptyCase
from assistant.llm.base import Backend, is_smoke_model
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
    """One state of the chat while an answer streams in; `answer` is set on the final update. `error` is a message
    for the user (the history is then the chat as it was before the question); `conversation` the stored id."""

    history: ChatHistory
    answer: Answer | None = None
    backend: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    conversation: str = ""


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return "".join(_text_of(part) for part in content)
    return ""


def plain_history(history: Sequence[Mapping[str, Any]] | None) -> ChatHistory:
    """The chat as role/text pairs: the browser sends each message's content back as a list of typed parts
    ([{"type": "text", "text": ...}]), which would otherwise be stored and shown as its Python repr."""
    return [{"role": str(m.get("role", "")), "content": _text_of(m.get("content", ""))} for m in history or []]


def about_html(answer: Answer, smoke_models: Sequence[str]) -> str:
    """Below the answer: the smoke-model warning when it applies, and everything about how the answer was made
    (backend, model, prompt, notes such as a backend hint) folded away under "About this answer"."""
    details = backend_html(answer, smoke_models)
    warning = ""
    if is_smoke_model([answer.model, answer.backend], smoke_models):
        warning = ('<div class="smoke-warning" role="alert"><b>⚠ Smoke-test model.</b> This small model invents '
                   "facts and does not cite reliably: do not rely on this answer.</div>")
    return f'{warning}<details class="about-answer"><summary>About this answer</summary>{details}</details>'


def _model_of(session: Session) -> Backend | None:
    """The configured answering model, if any (follow-ups are then rewritten by it, checked by the rules)."""
    from assistant.app import App

    return session.app.backend.backend if isinstance(session.app, App) else None


def conversations(session: Session) -> ConversationStore:
    return ConversationStore(session.app.settings.index_dir / "conversations")


def conversation_choices(session: Session, case: str) -> list[tuple[str, str]]:
    """(label, id) of this user's conversations in `case`, most recent first."""
    if not case:
        return []
    case_id = session.require_case(case)
    return [(c.label, c.conv_id) for c in conversations(session).list(session.user.username, case_id)]


def open_conversation(session: Session, case: str, conv_id: str | None) -> ChatHistory:
    """The stored chat of one of this user's conversations in `case` ([] when there is none)."""
    if not case or not conv_id:
        return []
    case_id = session.require_case(case)
    conv = conversations(session).load(session.user.username, case_id, conv_id)
    return [dict(m) for m in conv.history] if conv else []


def last_case(session: Session, cases: Sequence[str]) -> str | None:
    """The case to open on: the one of this user's most recent conversation, else the first (None: no case)."""
    if len(cases) <= 1:
        return cases[0] if cases else None
    store = conversations(session)
    latest = [(conv.updated, case) for case in cases if (conv := store.latest(session.user.username, case))]
    return max(latest)[1] if latest else cases[0]


def source_choices(session: Session, case: str) -> list[str]:
    """The source filter's list: "" (any source) then the case's files, as the role may see their names."""
    return ["", *(shown_source(session, case, src) for src in session.sources(case))] if case else [""]


def shown_source(session: Session, case: str, source: str) -> str:
    """A file name as the role sees it; a Source filter is given as shown (Session maps it back, server-side)."""
    from assistant.access.requests import shown_source as shown

    return shown(session.app, case, source, session.user.role, session.cleared)


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
        filters: RetrievalFilters | None = None, conversation: str = "", purpose: str = "") -> Iterator[ChatUpdate]:
    """Stream an answer into the chat history. Access to `case` is checked by the Session before anything runs.
    A follow-up is resolved against `conversation` (this user's stored turns) into a standalone question, which is
    what is searched, shown ("Searched for: ...") and audited. Errors the user can act on leave the chat as it was
    and come back as `error`; an empty case says so in the chat. `purpose` (the stated reason) is recorded with the
    question."""
    case_id = session.require_case(case)
    past = plain_history(history)
    try:
        text = clean_question(question)
    except AssistantError as exc:
        yield ChatUpdate(past, error=str(exc), conversation=conversation)
        return
    store = conversations(session)
    conv = (store.load(session.user.username, case_id, conversation) if conversation else None) \
        or store.new(session.user.username, case_id)
    rule = resolve(text, conv.turns)
    backend = _model_of(session)
    looks_like_follow_up = bool(rule.replaced or rule.unresolved)
    res = model_rewrite(backend, text, conv.turns, rule) if backend and looks_like_follow_up else rule
    lead = f"_Searched for: {md_text(res.standalone)}_\n\n" if res.rewritten else ""
    if res.unresolved:
        lead += f"_Not rewritten: {md_text(res.unresolved)}._\n\n"
    extra = {"conversation": conv.conv_id, **({"asked": text, "searched_for": res.standalone,
                                                "rewritten_by": "model" if res != rule else "rules"}
                                               if res.rewritten else {})}
    turns = [*past, {"role": "user", "content": md_text(text)}]
    yield ChatUpdate([*turns, {"role": "assistant", "content": lead + PENDING}], conversation=conv.conv_id)
    partial = ""
    started = time.perf_counter()
    first_s = -1.0
    try:
        for item in session.ask_stream(case_id, res.standalone, filters, purpose=purpose, audit_extra=extra):
            if isinstance(item, Answer):
                final = [*turns, {"role": "assistant", "content": lead + answer_markdown(item)}]
                log.info("chat_answer user=%s case=%s status=%s citations=%d rewritten=%s first_piece_s=%.2f",
                         session.user.username, case_id, item.status, len(item.citations), res.rewritten, first_s)
                store.append(conv, Turn(text, res.standalone, item.answer), final)
                info = about_html(item, session.app.settings.llm.smoke_models) + ttft_html(first_s)
                yield ChatUpdate(final, item, info, citation_choices(item), conversation=conv.conv_id)
                return
            if first_s < 0:
                first_s = time.perf_counter() - started
            partial += item
            label = DRAFT_LABEL + ttft_html(first_s) + "\n\n"
            yield ChatUpdate([*turns, {"role": "assistant", "content": lead + label + md_text(partial)}],
                             conversation=conv.conv_id)
    except EmptyCase as exc:
        empty = f"**This case holds no material yet.** {md_text(exc)}"
        yield ChatUpdate([*turns, {"role": "assistant", "content": empty}], conversation=conv.conv_id)
        return
    except AssistantError as exc:
        log.info("chat_refused user=%s case=%s error=%s", session.user.username, case_id, type(exc).__name__)
        yield ChatUpdate(past, error=str(exc), conversation=conv.conv_id)
        return
    except Exception as exc:  # the chat goes back to how it was; the traceback goes to the log under a reference
        reference = uuid.uuid4().hex[:12]
        log.error("internal_error reference=%s type=%s", reference, type(exc).__name__, exc_info=True)
        yield ChatUpdate(past, error=f"internal error, reference {reference}", conversation=conv.conv_id)
        return
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

