"""How persisted index files are written: private (created 0600 in a 0700 folder, `assistant.perms`), whole or not at
all (temporary file, fsync, rename), and with named kill points that a fault-injection test can arm
(`assistant.faults`); and one writer per case across processes (`CaseLock`, below)."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from assistant.errors import AssistantError
from assistant.faults import KILL_AT_ENV, KILL_ENV, KILL_POINTS, kill_point
from assistant.perms import private_dir

__all__ = ["KILL_AT_ENV", "KILL_ENV", "KILL_POINTS", "CaseLock", "CaseLocked", "atomic_file", "atomic_write",
           "kill_point"]
log = logging.getLogger(__name__)



def atomic_write(path: Path, data: bytes, *, kill: str = "") -> None:
    """Write `data` to `path` so a reader sees the old file or the whole new one, never a torn one."""
    view = memoryview(data)
    atomic_write_parts(path, (view[: len(data) // 2], view[len(data) // 2 :]), kill=kill)


def atomic_write_parts(path: Path, parts: Iterable[bytes | memoryview], *, kill: str = "") -> None:
    """`atomic_write` of a file given in parts (e.g. one per record), so the whole file never sits in memory; the
    kill point, when named, fires after the first part."""
    with atomic_file(path) as fh:
        for n, part in enumerate(parts):
            if n == 1 and kill:
                kill_point(kill)  # a torn temporary file is what a crash here leaves
            fh.write(part)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A new file to write (seekable) that replaces `path` whole, fsynced, when the block ends without error; on an
    error the old file stays and the partial one goes."""
    private_dir(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # two readers may rebuild at once
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            yield _FdWriter(fd)  # type: ignore[misc]  # a RawIOBase is a binary file
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:  # e.g. the disk is full: the old file stays, the partial one goes; say which file
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, f"could not write {path} ({exc.strerror or exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _FdWriter(io.RawIOBase):
    """Unbuffered writes to a file descriptor through `os.write`, seekable (zipfile rewrites its local headers)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            view = view[os.write(self._fd, view):]
        return total

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return os.lseek(self._fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, io.SEEK_CUR)

    def close(self) -> None:  # the descriptor is closed by `atomic_file`
        super().close()


# One writer per case across processes: an `fcntl.flock` on index_dir/locks/CASE.lock.
#
# Ingest, remove and fsck --repair hold it for their whole run; readers (questions, the UI) never take it, because the
# manifest's atomic swap already keeps them on a consistent version. A second writer either fails at once with a
# message naming the holder (pid, since when), or waits up to `wait` seconds, saying so once. The kernel drops the
# lock when the holder dies (even by SIGKILL), so a crash never leaves a case locked.
POLL_S = 0.2


class CaseLocked(AssistantError):
    """Another process is writing this case."""


class CaseLock:
    def __init__(self, index_dir: Path, case: str, *, wait: float = 0.0,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = private_dir(index_dir / "locks") / f"{case}.lock"
        self.case = case
        self.wait = wait
        self.on_wait = on_wait
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it ("pid 123 since 2026-...")."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            return f"pid {info.get('pid', '?')} ({info.get('what', 'a writer')}) since {info.get('since', '?')}"
        except (OSError, ValueError):
            return "another process"

    def acquire(self, what: str = "ingest") -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + max(self.wait, 0.0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise CaseLocked(
                        f"case {self.case!r} is being written by {self.holder()}; nothing was changed. Try again "
                        f"when it finishes, or wait for it: --wait SECONDS") from None
                if not told:
                    message = f"case {self.case!r} is being written by {self.holder()}; waiting up to {self.wait:g} s"
                    log.warning("case lock busy case=%s wait_s=%g", self.case, self.wait)
                    if self.on_wait is not None:
                        self.on_wait(message)
                    told = True
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "what": what,
                                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CaseLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
