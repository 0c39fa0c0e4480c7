"""Parse each file in a child process with a wall-time and an address-space limit (issue 14).

A hostile file that hangs the parser, exhausts memory or crashes it natively costs that file only: it is reported
with the reason, the worker is stopped and a fresh one serves the next file. One worker is reused across files (and
ingests) while it stays healthy, so the start-up cost (`benchmarks/bench_parse_worker.py`) is paid once."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from assistant.errors import IngestError
from assistant.ingest.wire import Malformed, encode_request, read_reply
from assistant.loaders import SourceFile
from assistant.procs import describe_exit
from assistant.types import Document

log = logging.getLogger(__name__)
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
Sink = Callable[[Sequence[Sequence[str]]], None]  # one message frame's rows (ingest.slices.spool.MessageSpool.add)


class ParserProcess:
    """`parse(read)` is `loaders.parse_source(read)` run in the worker; `close()` stops the worker."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        # a worker held to M MB of address space cannot build a larger reply honestly (ingest.wire); 8 GiB unlimited
        self.reply_cap = (memory_mb or 8192) << 20
        self.starts = 0
        self.last_peak_kb = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = dict(os.environ)  # the child runs this very code, wherever the parent imported it from
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.ingest.parse_worker", str(self.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.starts += 1
        log.debug("parse worker started pid=%d memory_mb=%d", self._proc.pid, self.memory_mb)
        return self._proc

    def parse(self, read: SourceFile, sink: Sink | None = None) -> tuple[Document, list[str]]:
        """(document, notes) of one file, parsed in the worker; `sink`: where the messages go instead of the
        document, a frame at a time (`wire.read_reply`)."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, encode_request(read))
        except (BrokenPipeError, OSError):  # it died between files: one fresh try
            self._stop()
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            _send(proc.stdin, encode_request(read))
        deadline = time.monotonic() + self.timeout_s
        try:
            kind, payload, peak = _read_reply(proc.stdout, deadline, self.reply_cap, sink)  # type: ignore[arg-type]
        except Malformed as exc:  # out of step with the worker: never trust another reply from it
            self._stop()
            raise IngestError(read.source, f"the parser process sent a malformed reply ({exc}); the file was "
                                           "skipped and the parser restarted") from None
        except TimeoutError:
            self._stop()
            raise IngestError(read.source, f"parsing took longer than {self.timeout_s:g} s (setting "
                                           "ingest.parse_timeout_s): the parser was stopped and the file "
                                           "skipped") from None
        except EOFError:
            code = self._stop()
            raise IngestError(read.source, f"the parser process died ({describe_exit(code)}), e.g. out of memory "
                                           f"(limit {self.memory_mb} MB, setting ingest.parse_memory_mb) or a crash "
                                           "in a native library; the file was skipped") from None
        self.last_peak_kb = peak
        if kind == "ok":
            doc, notes = payload
            return doc, list(notes)
        if kind == "memory":
            self._stop()
            raise IngestError(read.source, f"parsing needed more than the {self.memory_mb} MB memory limit "
                                           "(setting ingest.parse_memory_mb); the file was skipped")
        if kind == "crash":
            raise IngestError(read.source, f"parser error: {payload}")
        raise IngestError(read.source, str(payload))

    def _stop(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return code

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None and proc.stdin is not None:
            try:
                _send(proc.stdin, encode_request(None))
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()


def _read_exact(stream: IO[bytes], size: int, deadline: float) -> bytes:
    fd = stream.fileno()
    # poll, not select: select refuses descriptors numbered 1024 and above, which a long-lived process (a server
    # holding many cases' files, a test session) reaches
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    parts: list[bytes] = []
    left = size
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0:
            raise TimeoutError
        ready = poller.poll(max(1, int(wait * 1000)))
        if not ready:
            raise TimeoutError
        block = os.read(fd, min(left, 1 << 20))
        if not block:
            raise EOFError
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
    stream.flush()


def _read_reply(stream: IO[bytes], deadline: float, cap: int, sink: Sink | None) -> tuple[str, Any, int]:
    return read_reply(lambda n: _read_exact(stream, n, deadline), cap, sink)
