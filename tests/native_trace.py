"""What no Python-level guard can see: the network system calls of this process, every thread and every child it
forks, whoever makes them (torch, onnxruntime, chromadb's Rust bindings, lingua, a parse worker). `traced` attaches
strace to the running test process; `beyond_loopback` lists the calls that reach past loopback: a connect, sendto,
sendmsg or sendmmsg to a non-loopback address, any call to port 53 (a DNS query, even to a loopback stub resolver,
is answered from outside), a connect to a running resolver's Unix socket (nscd, systemd-resolved: conservative, as
nscd also answers user look-ups; ENOENT means no such daemon, nothing reached), a packet socket.
`python -m tests.native_trace TRACE...` applies the same check to a trace file of any command (docs/security.md)."""

from __future__ import annotations

import ctypes
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_SENDS = re.compile(r"^\d+\s+(?:<\.\.\. )?(connect|sendto|sendmsg|sendmmsg)\b")
_INET = re.compile(r"sa_family=AF_INET6?, sin6?_port=htons\((\d+)\).*?(?:inet_addr\(\"([^\"]+)\"\)|"
                   r"inet_pton\(AF_INET6?, \"([^\"]+)\")")
_RESOLVER_SOCKETS = ("/nscd/", "/systemd/resolve/")


def beyond_loopback(lines: list[str]) -> list[str]:
    """The traced calls that reach (or ask about) anything beyond this machine's loopback."""
    out = []
    for line in lines:
        if re.search(r"\bsocket\(AF_PACKET\b", line):
            out.append(line)
            continue
        if not _SENDS.match(line):
            continue
        for port, v4, v6 in _INET.findall(line):
            address = ipaddress.ip_address(v4 or v6)
            mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
            if int(port) == 53 or not (address.is_loopback or (mapped is not None and mapped.is_loopback)):
                out.append(line)
        if "AF_UNIX" in line and any(p in line for p in _RESOLVER_SOCKETS) and "ENOENT" not in line:
            out.append(line)
    return out


def _tree(pid: int) -> list[int]:
    """`pid` and its living descendants (a parse worker forked before the trace began is one)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    return out


def _all_threads_traced(pids: list[int]) -> bool:
    try:
        return all(re.search(r"TracerPid:\s*[1-9]", (t / "status").read_text())
                   for pid in pids for t in Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # a process or thread ended meanwhile
        return True


@contextmanager
def traced(out: Path) -> Iterator[list[str]]:
    """Trace the network calls of this process and its children (all threads; children forked meanwhile too) while
    the block runs; the yielded list holds the trace lines once the block has ended. Skips when strace is missing or
    may not attach."""
    if shutil.which("strace") is None:
        pytest.skip("needs strace (Debian package strace) to see native network calls")
    pids = _tree(os.getpid())
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=%network", "-o", str(out),
                               *[a for p in pids for a in ("-p", str(p))]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not _all_threads_traced(pids):
        if tracer.poll() is not None or time.monotonic() > deadline:
            tracer.kill()
            pytest.skip(f"strace cannot attach here (ptrace not permitted): {(tracer.communicate()[1] or '')[:200]}")
        time.sleep(0.01)
    lines: list[str] = []
    try:
        yield lines
    finally:
        tracer.send_signal(signal.SIGINT)  # strace detaches and flushes
        tracer.wait(60)
        lines.extend(out.read_text(encoding="utf-8", errors="replace").splitlines())


def native_udp_connect(host: str, port: int) -> int:
    """A connect made by C code, as a native library would make it: libc's connect on a UDP socket (no packet is sent:
    a UDP connect only records the peer). The Python socket guard never sees it. Returns connect's result."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
    addr = socket.AF_INET.to_bytes(2, sys.byteorder) + port.to_bytes(2, "big") + socket.inet_aton(host) + bytes(8)
    try:
        return int(libc.connect(fd, ctypes.c_char_p(addr), len(addr)))
    finally:
        os.close(fd)


if __name__ == "__main__":  # python -m tests.native_trace TRACE...: check an strace -f -e trace=%network output file
    found = [line for f in sys.argv[1:] for line in beyond_loopback(Path(f).read_text(errors="replace").splitlines())]
    print("\n".join(found) or "no network call beyond loopback")
    sys.exit(1 if found else 0)
