"""Ending a child process we started: SIGTERM, a grace period, then SIGKILL. One place for the servers the
project runs (Chroma, Redis, the local model) and for the tests and benchmarks that start workers."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(proc: subprocess.Popen[Any] | None, grace_s: float = 10.0) -> int | None:
    """Ask `proc` to end (SIGTERM), wait up to `grace_s` seconds, then SIGKILL it and wait again.

    A process that has already exited is left alone. Returns its exit status (None when there is no process)."""
    if proc is None:
        return None
    if proc.poll() is not None:
        return proc.returncode
    proc.terminate()
    try:
        return proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=grace_s)
