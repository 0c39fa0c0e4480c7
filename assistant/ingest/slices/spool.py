"""The parent's copy of a parsed document's messages, on disk (issue 13): the parse worker's message frames are
appended to a private temporary file as they arrive (`ingest.wire.read_reply(sink=)`), one JSON line of rows a frame,
and read back a frame at a time, so the parent never holds a large report's messages all at once. The file is
unlinked from the start (`tempfile.TemporaryFile`, in TMPDIR) and gone when closed; it takes about the messages' JSON
size on disk while the file is ingested."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import fields
from types import TracebackType
from typing import IO

from assistant.types import Message

_THREAD = [f.name for f in fields(Message)].index("thread_id")


class MessageSpool:
    """A `types.MessageStream` filled frame by frame (`add`), read back in the order added, as often as needed."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._count = 0
        self._threads: set[str] = set()  # threads seen before the current one
        self._current: str | None = None
        self.grouped = True  # each thread's messages together, so it can be cut into slices of whole threads

    def add(self, rows: Sequence[Sequence[str]]) -> None:
        """One frame's rows (message fields in `Message` order, already checked by the wire)."""
        if not rows:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+b")  # noqa: SIM115 (closed by close(), it outlives this call)
        for row in rows:
            thread = row[_THREAD]
            if thread != self._current:
                self.grouped = self.grouped and thread not in self._threads
                if self._current is not None:
                    self._threads.add(self._current)
                self._current = thread
        self._file.seek(0, 2)
        self._file.write(json.dumps([list(r) for r in rows], ensure_ascii=False).encode("utf-8") + b"\n")
        self._count += len(rows)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Message]:
        if self._file is None:
            return
        self._file.flush()
        position = 0
        while True:  # by position, so a reader never depends on another's place in the file
            self._file.seek(position)
            line = self._file.readline()
            if not line:
                return
            position = self._file.tell()
            yield from (Message(*row) for row in json.loads(line))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._count = 0
        self._threads.clear()

    def __enter__(self) -> MessageSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
