"""How persisted index files are written: private (created 0600 in a 0700 folder, `assistant.perms`), whole or not at
all (temporary file, fsync, rename), and with named kill points that a fault-injection test can arm.

`kill_point(name)` is inert unless the environment variable ASSISTANT_FAULT_KILL names that point; then the process
SIGKILLs itself there (on the n-th hit when ASSISTANT_FAULT_AT=n, default 1), exactly like a power cut or an OOM kill.
Nothing else reads these variables; production never sets them."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from assistant.perms import private_dir

KILL_ENV = "ASSISTANT_FAULT_KILL"
KILL_AT_ENV = "ASSISTANT_FAULT_AT"
# after a Chroma add batch; chunks written, swap not made; swapped, old version not deleted; BM25 file half written
KILL_POINTS = ("chroma_add", "before_swap", "after_swap", "bm25_save")
_hits: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process here when the fault-injection variable names this point; otherwise do nothing."""
    if os.environ.get(KILL_ENV) != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(os.environ.get(KILL_AT_ENV, "1")):
        os.kill(os.getpid(), signal.SIGKILL)


def atomic_write(path: Path, data: bytes, *, kill: str = "") -> None:
    """Write `data` to `path` so a reader sees the old file or the whole new one, never a torn one."""
    private_dir(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")  # two readers may rebuild at once
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(data)
            _write_all(fd, view[: len(data) // 2])
            if kill:
                kill_point(kill)  # a torn temporary file is what a crash here leaves
            _write_all(fd, view[len(data) // 2 :])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:  # e.g. the disk is full: the old file stays, the partial one goes
        tmp.unlink(missing_ok=True)
        raise


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]
