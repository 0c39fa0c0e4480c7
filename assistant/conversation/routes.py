"""Questions answered from every passage of a case rather than the top-ranked ones: a person's timeline, a person
digest (drafted by the model when one is configured, else extractive) and questions of several parts. Each returns
None for any other question; the App tries them in turn (the timeline before the links index's chronology)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from assistant.types import Answer, Passage, RetrievalFilters

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.index.embedding import Embedder
    from assistant.index.store import IndexStore
    from assistant.llm.base import Backend


def case_passages(store: IndexStore, case: str, filters: RetrievalFilters | None) -> Iterator[Passage]:
    """Every passage of the case (streamed page by page), narrowed to the filters (per message, not per chunk)."""
    from assistant.index.narrow import narrow_passage
    from assistant.index.retrieval import stored_passage

    passages = (stored_passage(c, case) for c in store.iter_chunks(case))
    if filters is None or filters.is_empty():
        return passages
    return (n for p in passages if (n := narrow_passage(p, filters)) is not None
            and (not filters.source or n.source == filters.source))


def _filter_period(filters: RetrievalFilters | None) -> tuple[str, str, str] | None:
    if filters is None or not (filters.date_from or filters.date_to):
        return None
    return filters.date_from, filters.date_to, f"{filters.date_from or '…'} to {filters.date_to or '…'}"


def timeline_route(store: IndexStore, case: str, question: str, filters: RetrievalFilters | None) -> Answer | None:
    """"Timeline of X", "When did X go missing?": the person's timeline, or None."""
    from assistant.conversation.person_timeline import collect, timeline_answer
    from assistant.conversation.timeline_request import timeline_request

    request = timeline_request(question)
    if request is None or not store.has_case(case):
        return None
    if (period := _filter_period(filters)) and not request.start:
        request = dataclasses.replace(request, start=period[0], end=period[1], period=period[2])
    return timeline_answer(question, case, collect(case_passages(store, case, filters), request))[0]


def digest_route(store: IndexStore, case: str, question: str, filters: RetrievalFilters | None, *,
                 backend: Backend | None = None, embedder: Embedder | None = None,
                 settings: Settings | None = None) -> Answer | None:
    """A person digest ("Summarise what X did in March 2023", "What do we know about X?"), or None. Drafted by the
    model only with `llm.digest_by_model` (off by default: see its description)."""
    from assistant.conversation.digest import digest_answer
    from assistant.conversation.digest_request import digest_request

    request = digest_request(question)
    if request is None or not store.has_case(case):
        return None
    if (period := _filter_period(filters)) and not request.start:
        request = dataclasses.replace(request, start=period[0], end=period[1], period=period[2])
    extractive = digest_answer(question, case, request, case_passages(store, case, filters))
    if backend is None or settings is None or not settings.llm.digest_by_model or extractive.status != "answered":
        return extractive
    from assistant.conversation.model_digest import model_digest

    return model_digest(backend, extractive, request, settings=settings,
                        embedder=embedder.for_case(case) if embedder is not None else None)


def route_of(question: str) -> str:
    """The path App.ask_stream sends a question down, decided from its words alone and in the App's order:
    "timeline" (a person's timeline), "links" (cross-case or a timeline between two), "digest" (a person digest),
    "parts" (several questions in one) or "answer" (top-ranked passages). The conversation eval scores it."""
    from assistant.conversation.digest_request import digest_request
    from assistant.conversation.multipart import split_parts
    from assistant.conversation.timeline_request import timeline_request
    from assistant.links.chat import detect

    if timeline_request(question) is not None:
        return "timeline"
    if detect(question) is not None:
        return "links"
    if digest_request(question) is not None:
        return "digest"
    return "parts" if split_parts(question) else "answer"


def parts_route(case: str, question: str, answer_part: Callable[[str], Answer]) -> Answer | None:
    """A question asking several things ("who, where and what was found") answered part by part, or None."""
    from assistant.conversation.multipart import answer_parts, split_parts

    parts = split_parts(question)
    return answer_parts(question, case, parts, answer_part) if parts else None
