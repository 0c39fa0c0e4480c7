"""The child process that parses files (`python -m assistant.ingest.parse_worker MEMORY_MB`), one at a time.

It caps its own address space (RLIMIT_AS) before importing any loader, then answers requests on stdin with replies
on stdout, each a length-prefixed pickle: request `SourceFile` (or None to stop), reply `(kind, payload, peak_kb)`
where kind is "ok" (payload (Document, notes)), "error" (an IngestError's reason), "memory" or "crash". Anything a
library prints goes to stderr, never into the replies. The parent (`ingest.isolation`) owns the time limit.

`ASSISTANT_FAULT_PARSE=hang:NAME` or `alloc:NAME` makes the worker hang, or allocate without bound, on the source
named NAME: inert unless set, for tests of the limits only (like `index.durable.kill_point`)."""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
import time
from typing import IO, Any

FAULT_ENV = "ASSISTANT_FAULT_PARSE"
HEADER = struct.Struct("<Q")


def write_frame(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any:
    head = inp.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(head)[0]
    data = inp.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def peak_kb() -> int:
    """Peak resident set of this process so far, in KiB (what `benchmarks/bench_parse_worker.py` reports)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _fault(source: str) -> None:
    kind, _, name = os.environ.get(FAULT_ENV, "").partition(":")
    if not name or name != source:
        return
    if kind == "hang":
        while True:
            time.sleep(1)
    if kind == "alloc":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    from assistant.errors import IngestError
    from assistant.loaders import parse_source

    while True:
        try:
            read = read_frame(inp)
        except EOFError:
            return
        if read is None:
            return
        try:
            _fault(read.source)
            reply: tuple[str, Any, int] = ("ok", parse_source(read), 0)
        except IngestError as exc:
            reply = ("error", exc.reason, 0)
        except MemoryError:
            reply = ("memory", "", 0)
        except Exception as exc:  # a loader bug costs this file only
            reply = ("crash", f"{type(exc).__name__}: {exc}", 0)
        try:
            write_frame(out, (reply[0], reply[1], peak_kb()))
        except MemoryError:
            write_frame(out, ("memory", "", peak_kb()))
            return  # the heap may be fragmented beyond use: let the parent start a fresh worker


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
