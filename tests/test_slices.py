"""A phone report chunked a slice of whole threads at a time gives exactly the chunks of the whole document (issue 13:
the parent takes a large report in slices): same ids, texts, locators, message indices and records."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.config import ChunkingSettings, EmbeddingSettings, load_settings
from assistant.ingest.chunking import chunk_document
from assistant.ingest.slices import Interleaved, thread_slices
from assistant.ingest.tokenizer import load_tokenizer
from assistant.loaders import parse_source, read_source
from assistant.types import Chunk, Document, Message
from tests import pa_report as pa


@pytest.fixture(scope="module")
def tok() -> Any:
    return load_tokenizer()


def report(path: Path, only: list[int] | None = None) -> Path:
    """Chats of 1 to 15 messages (one with over-long messages, cut into parts), an SMS thread and a call; `only`:
    only those chats."""
    out = io.StringIO()
    kira, owner = ("+447700900418", "Kira Lane", False), ("+447700900001", "", True)
    long_body = " ".join(f"Sentence {k} about the delivery at the north gate." for k in range(30))
    chats = [("Chat", pa.chat(f"c{c}", f"chat-{c}@g.us", [kira, owner], [
        pa.instant_message(f"m{c}-{k}", f"K{c}-{k}", f"2024-03-{1 + (k * 5) % 9:02d}T10:0{k % 10}:00.000+00:00",
                           kira if k % 2 else owner, long_body if c == 4 and k % 3 == 0 else f"message {k} of {c}",
                           deleted=k % 11 == 0)
        for k in range(1 + (c * 7) % 15)])) for c in (range(9) if only is None else only)]
    pa.write_report(out, [*chats, ("SMS", [pa.sms("s1", "2024-03-14T09:00:00.000+00:00", "+447700900777", "4471")]),
                          ("Call", [pa.call("k1", "2024-03-15T10:12:00.000+00:00", "Incoming", "07700 900418",
                                            "Kira Lane", "00:02:31")])], owner="Sam Vale")
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def sliced(doc: Document, size: int, tok: Any, settings: Any) -> list[Chunk]:
    chunks: list[Chunk] = []
    for part in thread_slices(iter(doc.messages), size):
        chunks += chunk_document(replace(doc, messages=part.messages), "case1", tok, settings, offset=part.offset,
                                 first=len(chunks))
    return chunks


@pytest.mark.parametrize("size", [1, 4, 13, 10_000])
def test_slices_of_whole_threads_make_the_whole_documents_chunks(tmp_path: Path, tok: Any, size: int) -> None:
    doc, _ = parse_source(read_source(report(tmp_path / "report.xml"), tmp_path))
    settings = load_settings(embedding=EmbeddingSettings.model_validate({"chunk_tokens": 60}),
                             chunking=ChunkingSettings.model_validate({"message_window": 6, "message_overlap": 2}))
    whole = chunk_document(doc, "case1", tok, settings)
    assert len({m.thread_id for m in doc.messages}) >= 10 and any("(part " in c.locator for c in whole)
    parts = list(thread_slices(iter(doc.messages), size))
    assert [m for p in parts for m in p.messages] == list(doc.messages)
    assert size == 10_000 or len(parts) > 3  # really cut (a thread over `size` is a slice of its own)
    assert sliced(doc, size, tok, settings) == whole  # ids, texts, locators, start/end, records with their indices


def test_a_thread_whose_messages_are_apart_is_refused() -> None:
    stream = [Message(str(k), t, "2024-03-01T10:00:00+00:00", "A", "hi") for k, t in enumerate("aaba")]
    with pytest.raises(Interleaved):
        list(thread_slices(iter(stream), 2))


def test_the_spool_gives_back_what_it_was_given_and_knows_when_threads_are_apart() -> None:
    from assistant.ingest.slices.spool import MessageSpool
    from assistant.ingest.wire import _message_rows

    stream = [Message(str(k), t, "2024-03-01T10:00:00+00:00", "A", f"hi {k} Łódź\nline") for k, t in enumerate("aabbc")]
    with MessageSpool() as spool:
        spool.add(_message_rows(stream[:3]))
        spool.add([])
        spool.add(_message_rows(stream[3:]))
        assert len(spool) == 5 and list(spool) == stream and list(spool) == stream and spool.grouped
        spool.add(_message_rows(stream[:1]))  # thread "a" again, after "b" and "c"
        assert not spool.grouped and len(spool) == 6
    assert len(spool) == 0 and list(spool) == []
