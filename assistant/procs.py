"""The child processes we start: how one ended (`describe_exit`), waiting for a server to answer (`wait_ready`), and
ending one (`stop_process`: SIGTERM, a grace period, then SIGKILL). One place for the servers the project runs
(Chroma, Redis, PostgreSQL, the local model), the parser worker, and the tests and benchmarks that start workers."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

from assistant.kernel_egress import reserved_port


def free_port() -> int:
    """A free loopback port for a server we start: one of the ports kernel_egress reserved (and allowed) when its
    filter is on, else any the kernel picks."""
    reserved = reserved_port()
    if reserved:
        return reserved
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def describe_exit(returncode: int | None) -> str:
    """How a child process ended, as the predicate of a sentence ("was killed by SIGKILL")."""
    if returncode is None:
        return "is running"
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def wait_ready(proc: subprocess.Popen[Any], ready: Callable[[], bool], timeout_s: float, where: str,
               poll_s: float = 0.1) -> str | None:
    """Poll `ready()` until it holds (None) or the server fails to start: then the reason, as the predicate of a
    sentence: how it ended while starting, or that it did not answer on `where` in time (it is then stopped)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"{describe_exit(proc.returncode)} while starting"
        if ready():
            return None
        time.sleep(poll_s)
    stop_process(proc)
    return f"did not answer on {where} within {timeout_s:.0f} s"


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
