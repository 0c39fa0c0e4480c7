"""A large message document taken a slice of whole threads at a time (issue 13: bounded ingest memory).

The parse worker sends a phone report's messages in document order, each thread's messages together
(`loaders.phone.merge`: read back ORDER BY thread, time). Message windows never mix threads
(`ingest.message_chunks`), so chunking whole threads one slice at a time, with `chunk_document(offset=, first=)`,
makes exactly the chunks of the whole document: same ids, texts, locators and message indices
(tests/test_slices.py). `thread_slices` cuts the stream; a thread whose messages are not together (a loader that
interleaves threads) is refused, so the caller can fall back to the whole document."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assistant.types import Message


class Interleaved(ValueError):
    """A thread's messages are not together in the stream: it cannot be cut into slices of whole threads."""


@dataclass(frozen=True)
class Slice:
    offset: int  # index of the slice's first message in the whole document
    messages: tuple[Message, ...]


def thread_slices(messages: Iterable[Message], size: int) -> Iterator[Slice]:
    """Slices of whole threads of at least one thread and, past its first thread, of at most `size` messages (a
    thread longer than `size` is one slice on its own)."""
    size = max(1, size)
    closed: set[str] = set()
    held: list[Message] = []
    thread: list[Message] = []  # the thread being read
    offset = 0
    for message in messages:
        if thread and message.thread_id != thread[0].thread_id:
            closed.add(thread[0].thread_id)
            if held and len(held) + len(thread) > size:
                yield Slice(offset, tuple(held))
                offset += len(held)
                held = []
            held.extend(thread)
            thread = []
        if message.thread_id in closed:
            raise Interleaved("a thread's messages are not together in the stream")
        thread.append(message)
    if held and len(held) + len(thread) > size:
        yield Slice(offset, tuple(held))
        offset += len(held)
        held = []
    held.extend(thread)
    if held:
        yield Slice(offset, tuple(held))
