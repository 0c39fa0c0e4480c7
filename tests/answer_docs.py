"""Tiny neutral evidence for the answer-path tests (test_part_focus, test_short_focus): tagged prose passages and a
two-message chat passage built by the real chunker."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.config import Settings
from assistant.ingest.chunking import chunk_document
from assistant.ingest.tokenizer import load_tokenizer
from assistant.pii.tagger import PiiTagger
from assistant.types import Document, Message, Passage


def tagged_passages(settings: Settings, docs: Sequence[tuple[str, str]], locator: str) -> list[Passage]:
    """One passage per (source, text), numbered from 1, with the real Presidio tagger's entities."""
    tagger = PiiTagger(settings.pii)
    return [Passage(f"doc-{n}", "c", source, locator, text, 0.9, n, entities=tuple(tagger.tag(text)),
                    meta={"entities_json": "[]"})
            for n, (source, text) in enumerate(docs, start=1)]


def boat_chat_passage(settings: Settings) -> Passage:
    """Lena tells Tomas where the boat leaves; Tomas replies: one chunk of one thread."""
    messages = (Message("m1", "t1", "2024-05-01T10:00:00", "Lena", "the boat leaves from the north jetty at noon",
                        recipient="Tomas"),
                Message("m2", "t1", "2024-05-01T10:05:00", "Tomas", "ok see you there", recipient="Lena"))
    doc = Document(source="phone/chat.csv", kind="messages", text="", sha256="ab" * 32, messages=messages)
    chunk = chunk_document(doc, "c", load_tokenizer(), settings)[0]
    return Passage(chunk.chunk_id, "c", chunk.source, "thread t1", chunk.text, 0.9, 1, kind="messages",
                   meta=dict(chunk.meta))
