"""Egress refused by the kernel, for native code too (issue 15): what the Python guard in offline.py cannot see.

Two unprivileged, irreversible filters on this process and every child it starts (ctypes only, no compiled code):
- Landlock (ABI >= 4): a TCP `connect` is allowed only to the given ports (the configured model host, Chroma, Redis,
  PostgreSQL, the server's own port, a small pool of loopback ports reserved here for the servers we start). Ports,
  not addresses: Landlock cannot filter by address. `bind` is not restricted (servers must listen).
- seccomp-bpf: `socket(AF_INET|AF_INET6, ...)` of any type but SOCK_STREAM with protocol 0/TCP (so no UDP, hence no
  native DNS or QUIC, no raw sockets, no SCTP/MPTCP that Landlock would not see), `socket(AF_PACKET, ...)`, a TCP
  Fast Open send (sendto/sendmsg/sendmmsg with MSG_FASTOPEN: a connect without `connect`) and `io_uring_setup`
  (io_uring creates sockets without the syscalls seccomp sees) fail with EPERM. The filter checks the audit arch;
  a call in another ABI (x32, 32-bit compat) fails with EPERM.
Both act on the calling thread and what it starts afterwards, so `install` must run before any thread exists (the
CLI calls it first thing). Where the kernel or CPU lacks support, `install` logs why and leaves the process as it was.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import socket
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Servers we start ourselves on a loopback port chosen by procs.free_port: the local model runtime (one per model:
# answer and second-stage models), Chroma, PostgreSQL and Redis, five at once at most; eight leaves room for restarts
# whose previous port is still in TIME_WAIT.
POOL_SIZE = 8

_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and aarch64
_LANDLOCK_CREATE_RULESET_VERSION = 1
_ACCESS_NET_CONNECT_TCP = 1 << 1
_RULE_NET_PORT = 2
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1


@dataclass(frozen=True)
class Arch:
    audit: int  # AUDIT_ARCH_* (linux/audit.h)
    seccomp: int  # syscall numbers (asm/unistd.h)
    socket: int
    sendto: int
    sendmsg: int
    sendmmsg: int
    io_uring_setup: int
    foreign_bit: int  # x32 ABI calls share x86_64's audit arch and carry this bit


ARCHES = {
    "x86_64": Arch(0xC000003E, 317, 41, 44, 46, 307, 425, 0x40000000),
    "aarch64": Arch(0xC00000B7, 277, 198, 206, 211, 269, 425, 0),
}

_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_JSET_K, _BPF_ALU_AND_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x54, 0x06
_BPF_JA = 0x05  # BPF_JMP | BPF_JA: jump by k
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW; SECCOMP_RET_ERRNO | EPERM
_SOCK_TYPE_MASK = 0xF  # strips SOCK_NONBLOCK / SOCK_CLOEXEC (linux/net.h)
_MSG_FASTOPEN = 0x20000000
_AF_PACKET = 17
# struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8*i (the low 32 bits first on little-endian machines)
_NR, _ARCH = 0, 4


def _arg(i: int) -> int:
    return 16 + 8 * i


_pool: list[int] = []
_status = "not installed"


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The running kernel's Landlock ABI version (0 when Landlock is absent or disabled)."""
    try:
        libc = _libc()
        version = int(libc.syscall(ctypes.c_long(_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
                                   ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION)))
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def seccomp_program(arch: Arch) -> list[tuple[int, int, int, int]]:
    """The classic-BPF filter as (code, jt, jf, k) instructions. Steps are (op, value, jump target); a bare string
    is a label. Every path ends at `allow` or `deny`."""
    steps: list[tuple[str, int, str] | str] = [
        ("ld", _ARCH, ""), ("jne", arch.audit, "deny"), ("ld", _NR, ""),
        *([("jge", arch.foreign_bit, "deny")] if arch.foreign_bit else []),
        ("jeq", arch.io_uring_setup, "deny"),
        ("jeq", arch.sendto, "flags3"), ("jeq", arch.sendmmsg, "flags3"), ("jeq", arch.sendmsg, "flags2"),
        ("jne", arch.socket, "allow"),
        ("ld", _arg(0), ""), ("jeq", _AF_PACKET, "deny"),
        ("jeq", socket.AF_INET, "inet"), ("jne", socket.AF_INET6, "allow"),
        "inet", ("ld", _arg(1), ""), ("and", _SOCK_TYPE_MASK, ""), ("jne", socket.SOCK_STREAM, "deny"),
        ("ld", _arg(2), ""), ("jeq", 0, "allow"), ("jeq", socket.IPPROTO_TCP, "allow"), ("goto", 0, "deny"),
        "flags3", ("ld", _arg(3), ""), ("jset", _MSG_FASTOPEN, "deny"), ("goto", 0, "allow"),
        "flags2", ("ld", _arg(2), ""), ("jset", _MSG_FASTOPEN, "deny"), ("goto", 0, "allow"),
        "allow", ("ret", _RET_ALLOW, ""),
        "deny", ("ret", _RET_EPERM, ""),
    ]
    labels: dict[str, int] = {}
    for step in steps:
        if isinstance(step, str):
            labels[step] = sum(not isinstance(s, str) for s in steps[: steps.index(step)])
    plain = {"ld": _BPF_LD_W_ABS, "and": _BPF_ALU_AND_K, "ret": _BPF_RET_K}
    jumps = {"jeq": _BPF_JEQ_K, "jne": _BPF_JEQ_K, "jge": _BPF_JGE_K, "jset": _BPF_JSET_K, "goto": _BPF_JA}
    out: list[tuple[int, int, int, int]] = []
    for step in steps:
        if isinstance(step, str):
            continue
        op, value, target = step
        if op in plain:
            out.append((plain[op], 0, 0, value))
            continue
        offset = labels[target] - len(out) - 1
        if op == "goto":
            out.append((jumps[op], 0, 0, offset))
        elif op == "jne":  # jump when not equal: the false branch
            out.append((jumps[op], 0, offset, value))
        else:
            out.append((jumps[op], offset, 0, value))
    return out


def _install_seccomp(arch: Arch) -> str:
    program = seccomp_program(arch)
    raw = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))
    fprog = struct.pack("HxxxxxxP", len(program), ctypes.addressof(buffer))  # struct sock_fprog
    fprog_buffer = ctypes.create_string_buffer(fprog, len(fprog))
    libc = _libc()
    rc = libc.syscall(ctypes.c_long(arch.seccomp), ctypes.c_uint(_SECCOMP_SET_MODE_FILTER),
                      ctypes.c_uint(_SECCOMP_FILTER_FLAG_TSYNC), fprog_buffer)
    if rc != 0:
        return f"off (seccomp failed: {os.strerror(ctypes.get_errno())})"
    return "on"


def _install_landlock(ports: set[int], abi: int) -> str:
    if abi < 4:
        return f"off (Landlock ABI {abi}: TCP rules need 4)"
    libc = _libc()
    attr = struct.pack("QQ", 0, _ACCESS_NET_CONNECT_TCP)  # handled_access_fs, handled_access_net
    fd = int(libc.syscall(ctypes.c_long(_LANDLOCK_CREATE_RULESET), ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)),
                          ctypes.c_uint32(0)))
    if fd < 0:
        return f"off (create_ruleset: {os.strerror(ctypes.get_errno())})"
    try:
        for port in sorted(ports):
            rule = struct.pack("QQ", _ACCESS_NET_CONNECT_TCP, port)
            if libc.syscall(ctypes.c_long(_LANDLOCK_ADD_RULE), ctypes.c_int(fd), ctypes.c_int(_RULE_NET_PORT),
                            ctypes.c_char_p(rule), ctypes.c_uint32(0)) != 0:
                return f"off (add_rule port {port}: {os.strerror(ctypes.get_errno())})"
        if libc.syscall(ctypes.c_long(_LANDLOCK_RESTRICT_SELF), ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            return f"off (restrict_self: {os.strerror(ctypes.get_errno())})"
    finally:
        os.close(fd)
    return f"on (abi={abi}, ports={len(ports)})"


def _reserve_pool(size: int) -> list[int]:
    """Loopback ports free now, for the servers this process will start (procs.free_port hands them out)."""
    found: list[int] = []
    holders = []
    try:
        for _ in range(size):
            holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            holders.append(holder)
            holder.bind(("127.0.0.1", 0))
            found.append(int(holder.getsockname()[1]))
    finally:
        for holder in holders:
            holder.close()
    return found


def install(ports: Iterable[int], pool_size: int = POOL_SIZE) -> str:
    """Install both filters on this process (once); returns and logs `kernel_egress: landlock=..., seccomp=...`."""
    global _status
    if _status != "not installed":
        return _status
    wanted = {int(p) for p in ports if 0 < int(p) < 65536}
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    arch = ARCHES.get(platform.machine())
    if "_pytest" in sys.modules:  # a test process starts browsers and servers on ports no one can list beforehand
        landlock = seccomp = "off (inside pytest: tests run the CLI in subprocesses to check the filters)"
    elif platform.system() != "Linux" or arch is None:
        landlock = seccomp = f"off (unsupported platform {platform.system()} {platform.machine()})"
    elif _libc().prctl(ctypes.c_int(_PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                       ctypes.c_ulong(0)) != 0:
        landlock = seccomp = f"off (no_new_privs: {os.strerror(ctypes.get_errno())})"
    else:
        if threads > 1:  # seccomp reaches every thread (TSYNC); Landlock would bind this one only
            landlock = f"off ({threads} threads already running: Landlock binds the calling thread only)"
        else:
            pool = _reserve_pool(pool_size)
            landlock = _install_landlock(wanted | set(pool), landlock_abi())
            if landlock.startswith("on"):
                _pool.extend(pool)
        seccomp = _install_seccomp(arch)
    _status = f"kernel_egress: landlock={landlock}, seccomp={seccomp}"
    if "off" in _status:
        log.warning(_status)
    else:
        log.info(_status)
    return _status


def status() -> str:
    return _status


def reserved_port() -> int:
    """A port of the reserved pool that is free now (0 when no pool: the guard is off, or every pool port is taken)."""
    for port in _pool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return 0
