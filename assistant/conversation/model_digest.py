"""A person digest drafted by the configured model from the passages the extractive digest found
(prompts/digest_draft.j2, passages as data), each line verified by the product's verifier against the passage it
cites. Unverified lines are removed and named in a note; when the model fails or no line survives, the extractive
digest stands, with a note saying why. The gaps ("no vehicle found in N sources") are the extractive digest's: they
were looked for over every passage naming the person, not only those the model read."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING

from assistant.answer.answerer import removed_note
from assistant.answer.prompts import render
from assistant.conversation.digest import GROUPS
from assistant.conversation.digest_request import DigestRequest
from assistant.types import Answer, Citation
from assistant.verify.verifier import verify_draft

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.index.embedding import Embedder
    from assistant.llm.base import Backend

log = logging.getLogger(__name__)

TEMPLATE = "digest_draft"
PROMPT_VERSION = "digest-v1"
_HEADING = re.compile(r"^\W*(" + "|".join(re.escape(g) for g in GROUPS) + r")\W*$", re.I)
_MARK = re.compile(r"\[(\d+)\]")


def draft_groups(draft: str) -> list[tuple[str, list[str]]]:
    """The draft's lines under each heading, in the draft's order; lines before any heading go under ""."""
    groups: list[tuple[str, list[str]]] = [("", [])]
    for line in draft.splitlines():
        if not line.strip():
            continue
        if m := _HEADING.match(line.strip()):
            name = next(g for g in GROUPS if g.lower() == m.group(1).lower())
            groups.append((name, []))
        else:
            groups[-1][1].append(line.strip())
    return [(name, lines) for name, lines in groups if lines]


def model_digest(backend: Backend, extractive: Answer, request: DigestRequest, *, settings: Settings,
                 embedder: Embedder | None) -> Answer:
    """The model's verified digest, or `extractive` with a note when the model fails or no line is verified."""
    passages = list(extractive.retrieved)
    shown = passages[:backend.max_passages] if backend.max_passages > 0 else passages
    messages = [{"role": "user", "content": render(TEMPLATE, person=request.person, period=request.period,
                                                   passages=shown).strip()}]
    try:
        draft = "".join(backend.stream_chat(messages, max_tokens=settings.llm.max_tokens,
                                            temperature=settings.llm.temperature))
    except Exception as exc:  # the extractive digest is always there
        log.warning("digest_model_failed backend=%s error=%s", backend.name, type(exc).__name__)
        why = f"The model failed ({type(exc).__name__}); showing the extractive digest."
        return _fallback(extractive, backend, why)
    parts: list[str] = []
    citations: list[Citation] = []
    flagged: list[str] = []
    for group, lines in draft_groups(draft):
        verified = verify_draft("\n".join(lines), shown, embedder=embedder, settings=settings.answer)
        flagged += verified.flagged
        if not verified.kept:
            continue
        offset = len(citations)
        citations += [dataclasses.replace(c, n=c.n + offset) for c in verified.citations]
        body = _renumber(verified.text, offset)
        parts.append(f"{chr(10) if parts else ''}{group + ':' if group else ''}")
        parts += [f"- {line.lstrip('-•* ').strip()}" for line in body.splitlines() if line.strip()]
    log.info("digest_model_verified kept=%d flagged=%d passages=%d", len(citations), len(flagged), len(shown))
    if not citations:
        return _fallback(extractive, backend, "No line of the model's digest was supported by its cited passage; "
                                              "showing the extractive digest.", tuple(flagged))
    gaps = extractive.answer.split("\nNot found:", 1)
    if len(gaps) == 2:
        parts.append("\nNot found:" + gaps[1])
    notes = [f"Digest drafted by the model from {len(shown)} of the passages naming {request.person}; every line "
             "was checked against the passage it cites."]
    if flagged:
        notes.append(removed_note(flagged))
    return Answer(extractive.question, extractive.case, "answered", "\n".join(p for p in parts if p), backend.name,
                  tuple(citations), tuple(shown), model=backend.model, prompt_version=PROMPT_VERSION,
                  notes=tuple(notes), flagged_claims=tuple(flagged))


def _renumber(text: str, offset: int) -> str:
    return _MARK.sub(lambda m: f"[{int(m.group(1)) + offset}]", text)


def _fallback(extractive: Answer, backend: Backend, why: str, flagged: tuple[str, ...] = ()) -> Answer:
    notes = (why, removed_note(flagged)) if flagged else (why,)
    return dataclasses.replace(extractive, model=backend.model, prompt_version=PROMPT_VERSION,
                               notes=(*notes, *extractive.notes), flagged_claims=flagged)
