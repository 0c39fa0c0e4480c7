"""What a user sends with a request, checked on the server before any work: the question, the stated purpose and
the retrieval filters. A filter is refused (and the refusal audited by the caller's `deny`) when a role without
clearance could use it to probe a protected person: a Sender naming one, or a Source that is not one of the file
names that role is shown (a file named after a protected person is listed, and must be chosen, masked); a Source
naming no file of the case is refused for every role."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from assistant.access.auth import UserError
from assistant.errors import AccessDenied
from assistant.types import Passage, RetrievalFilters

Deny = Callable[[str, str, str], AccessDenied]  # (message, action, case) -> the error to raise, already audited


class FilterApp(Protocol):
    def list_sources(self, case: str) -> list[str]: ...

    def mask_passage(self, passage: Passage, role: str) -> Passage: ...


def shown_source(app: FilterApp, case: str, source: str, role: str, cleared: bool) -> str:
    """A file name as `role` sees it (a protected person's name in it masked for roles without clearance)."""
    return source if cleared else app.mask_passage(Passage("", case, source, "", "", 0.0), role).source


def checked_filters(app: FilterApp, case: str, filters: RetrievalFilters | None, role: str, cleared: bool,
                    deny: Deny) -> RetrievalFilters | None:
    """`filters` with the Source as the real file name; refused through `deny` as described above."""
    if filters is None:
        return None
    if filters.sender and not cleared:
        typed = Passage("", case, "", "", filters.sender, 0.0)
        if app.mask_passage(typed, role).text != typed.text:
            raise deny("a filter names a protected person: filter on what is shown to you", "filter", case)
    if not filters.source:
        return filters
    matches = [s for s in app.list_sources(case) if shown_source(app, case, s, role, cleared) == filters.source]
    if not matches:
        protected = shown_source(app, case, filters.source, role, cleared) != filters.source
        reason = "names a protected person" if protected else "names no file of this case you can see"
        raise deny(f"the Source filter {reason}: choose a file from the list", "filter", case)
    if len(matches) > 1:
        raise UserError(f"{len(matches)} files are shown under that name: ask without the Source filter")
    return replace(filters, source=matches[0])


def clean_question(question: str) -> str:
    """The question stripped; an empty or over-long one is refused with the reason (checked before any work)."""
    text = (question or "").strip()
    if not text:
        raise UserError("type a question first")
    if len(text) > 2000:
        raise UserError("question too long: at most 2000 characters")
    return text


def clean_purpose(purpose: str) -> str:
    text = " ".join((purpose or "").split())
    if len(text) > 500:
        raise UserError("purpose too long: at most 500 characters")
    return text


def report_summary(report: Any) -> Any:
    """A JSON-able summary of an IngestReport without file contents (counts and relative paths only)."""
    to_json = getattr(report, "to_json", None)
    if callable(to_json):
        return to_json()
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return {k: (len(v) if isinstance(v, (list, tuple, dict)) else v)
                for k, v in dataclasses.asdict(report).items() if isinstance(v, (int, float, str, list, tuple, dict))}
    return {}
