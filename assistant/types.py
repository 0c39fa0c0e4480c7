"""Our own small, frozen types at every boundary. The UI, CLI and evals never see llama-index or Chroma objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Status = Literal["answered", "no_evidence"]


@dataclass(frozen=True)
class Entity:
    """One PII span. Offsets are into the text that was tagged."""

    type: str
    start: int
    end: int
    text: str
    score: float
    normalized: str = ""  # e.g. E.164 phone, registration without spaces; "" when not applicable

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end, "text": self.text,
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class Message:
    """One message of a seized-phone export, as loaded."""

    message_id: str
    thread_id: str
    timestamp: str
    sender: str
    body: str
    recipient: str = ""
    language: str = ""
    translation: str = ""
    device: str = ""
    phone: str = ""  # seized-phone evidence: JSON of a loaders.phone.records.PhoneRecord ("" for CSV/JSONL rows)
    machine: str = ""  # provenance of a machine translation ("" when `translation` came with the export or is empty)

    @property
    def english(self) -> str:
        """The text that is embedded and searched: the translation when present."""
        return self.translation or self.body


class MessageStream(Protocol):
    """A document's messages handed over one at a time, in document order, their number known up front (a phone
    report's, read back from disk by the parse worker: `loaders.parse_source_stream`). `close` frees what holds them."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Message]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Document:
    """A loaded file: its text and provenance. `pages` holds (page_number, start, end) char spans of `text`
    for paged formats (PDF, DOCX has none). `messages` is non-empty only for message exports, and then `text`
    is empty: message files are chunked as conversation windows, not as prose."""

    source: str  # path relative to the ingested folder, POSIX separators
    kind: Literal["text", "pdf", "docx", "email", "messages"]
    text: str
    sha256: str  # of the file bytes
    pages: tuple[tuple[int, int, int], ...] = ()
    messages: tuple[Message, ...] = ()
    title: str = ""
    ocr_pages: tuple[tuple[int, float], ...] = ()  # (page_number, mean OCR word confidence 0-100) of scanned pages


@dataclass(frozen=True)
class Chunk:
    """A unit of retrieval with exact provenance.

    For prose: `start`/`end` are char offsets into `Document.text` and `text == document.text[start:end]`;
    `meta` holds page, line_start, line_end.
    For messages: `text` is the rendered window (one line per message, English text); `meta["messages"]` is a JSON
    list of {message_id, thread_id, timestamp, sender, recipient, language, body, translation, start, end} where
    start/end are offsets of that message's English text inside `Chunk.text`, so every message stays citable.
    """

    chunk_id: str
    case: str
    source: str
    locator: str
    text: str
    start: int
    end: int
    content_hash: str
    source_hash: str
    kind: str
    meta: dict[str, str | int | float | bool] = field(default_factory=dict)
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score. `rank` is 1-based in the retrieved list."""

    chunk_id: str
    case: str
    source: str
    locator: str
    text: str
    score: float
    rank: int = 0
    kind: str = "text"
    meta: dict[str, str | int | float | bool] = field(default_factory=dict)
    entities: tuple[Entity, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"chunk_id": self.chunk_id, "case": self.case, "source": self.source, "locator": self.locator,
                "score": round(self.score, 6), "text": self.text}


@dataclass(frozen=True)
class Citation:
    """One [n] marker of an answer, resolved to a passage and the verbatim supporting words."""

    n: int
    chunk_id: str
    source: str
    locator: str
    quote: str
    text: str
    verified: bool
    quote_start: int = -1  # offset of quote inside text, -1 when not found
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "chunk_id": self.chunk_id, "source": self.source, "locator": self.locator,
                "quote": self.quote, "text": self.text, "verified": self.verified}


@dataclass(frozen=True)
class Answer:
    """What reaches the user. `to_json` is exactly the `assistant ask --json` contract (plus extension keys)."""

    question: str
    case: str
    status: Status
    answer: str
    backend: str
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Passage, ...] = ()
    model: str = ""
    prompt_version: str = ""
    notes: tuple[str, ...] = ()
    flagged_claims: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "case": self.case,
            "status": self.status,
            "answer": self.answer,
            "backend": self.backend,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [p.to_json() for p in self.retrieved],
            "model": self.model,
            "prompt_version": self.prompt_version,
            "notes": list(self.notes),
            "flagged_claims": list(self.flagged_claims),
        }


@dataclass(frozen=True)
class RetrievalFilters:
    """Optional narrowing of a retrieval. Dates are ISO strings compared lexically on message timestamps."""

    date_from: str = ""
    date_to: str = ""
    sender: str = ""
    source: str = ""
    entity_type: str = ""

    def is_empty(self) -> bool:
        return not (self.date_from or self.date_to or self.sender or self.source or self.entity_type)
