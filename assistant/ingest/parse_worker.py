"""The child process that parses files (`python -m assistant.ingest.parse_worker MEMORY_MB`), one at a time.

It caps its own address space (RLIMIT_AS) before importing any loader, then answers requests on stdin with replies
on stdout, each a data-only frame (`ingest.wire`: JSON and raw bytes, never pickle): request `SourceFile` (or None to
stop), reply (kind, payload, peak_kb) where kind is "ok" (payload (Document, notes, its messages), the messages
sent frame by frame as they are read back: a phone report's from the disk spill of `loaders.phone.merge`, so the
worker's memory does not grow with the report), "error" (an IngestError's
reason), "memory" or "crash". Anything a library prints goes to stderr, never into the replies. The parent
(`ingest.isolation`) owns the time limit and the reply size cap.

`ASSISTANT_FAULT_PARSE=KIND:NAME` makes the worker misbehave on the source named NAME: hang, allocate without bound
(alloc), reply with a pickle (garbage), announce a reply over any cap (huge) or reply with JSON of the wrong shape
(shape). Inert unless set, for tests of the limits only (like `index.durable.kill_point`)."""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import IO, Any

FAULT_ENV = "ASSISTANT_FAULT_PARSE"
REQUEST_CAP = 1 << 40  # the parent's own requests: bounded by the size caps it applied when reading the file
_PICKLED = b"\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94."
_GARBAGE = {"garbage": len(_PICKLED).to_bytes(8, "little") + _PICKLED + bytes(8),  # a well-framed pickle
            "huge": b"\xff" * 8,  # a length no cap allows
            "shape": b'{"kind":"ok","payload":{"document":{"kind":"exe"},"notes":[]},"peak_kb":1}'}
_GARBAGE["shape"] = len(_GARBAGE["shape"]).to_bytes(8, "little") + _GARBAGE["shape"] + bytes(8)


def peak_kb() -> int:
    """Peak resident set of this process so far, in KiB (what `benchmarks/bench_parse_worker.py` reports)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _fault(source: str, out: IO[bytes]) -> None:
    kind, _, name = os.environ.get(FAULT_ENV, "").partition(":")
    if not name or name != source:
        return
    if kind in _GARBAGE:
        out.write(_GARBAGE[kind])
        out.flush()
    if kind == "hang":
        while True:
            time.sleep(1)
    if kind == "alloc":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    from assistant.errors import IngestError
    from assistant.ingest.wire import decode_request, encode_reply, read_frame, stream_reader
    from assistant.loaders import parse_source_stream

    sent = [False]  # part of a reply is out: a "memory" frame now would be read as its next frame

    def write_frame(kind: str, payload: Any) -> None:
        sent[0] = False
        for part in encode_reply(kind, payload, peak_kb()):  # a document's messages a frame at a time (ingest.wire)
            out.write(part)
            sent[0] = True
        out.flush()

    while True:
        try:
            read = decode_request(*read_frame(stream_reader(inp), REQUEST_CAP))
        except EOFError:
            return
        if read is None:
            return
        messages = None
        try:
            _fault(read.source, out)
            parsed = parse_source_stream(read)  # (document, notes, its messages: from disk for a phone report)
            messages = parsed[2]
            reply: tuple[str, Any, int] = ("ok", parsed, 0)
        except IngestError as exc:
            reply = ("error", exc.reason, 0)
        except MemoryError:
            reply = ("memory", "", 0)
        except Exception as exc:  # a loader bug costs this file only
            reply = ("crash", f"{type(exc).__name__}: {exc}", 0)
        try:
            write_frame(reply[0], reply[1])
        except MemoryError:
            if not sent[0]:  # else the parent reads the cut reply's end: the worker died, e.g. out of memory
                write_frame("memory", "")
            return  # the heap may be fragmented beyond use: let the parent start a fresh worker
        except Exception as exc:  # reading the messages back failed (e.g. the disk under the spill): this file only
            if sent[0]:
                return  # part of the reply is out: the parent reports that the worker died
            write_frame("crash", f"{type(exc).__name__}: {exc}")
        finally:
            if messages is not None:
                messages.close()


def main() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if memory_mb > 0:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries land on stderr, never inside a reply
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
