"""Nothing leaves the machine: environment switches that stop telemetry and downloads, and an in-process egress
guard. Every entry point (CLI, server, test run) calls `apply_offline_env` and `install_egress_guard`; the CLI also
calls `install_kernel_guard` (assistant/kernel_egress.py: Landlock and seccomp, which native code cannot bypass).

The guard replaces `socket.socket.connect`/`connect_ex` and the resolver functions of the `socket` module: a
connection to a non-loopback address, or a DNS look-up of a name that is not loopback, is refused with an `OSError`
(so client libraries fail as they would on a closed port) unless the host is on the allowlist built from the
configured model hosts (`model_hosts`). It covers Python code (httpx, urllib, asyncio, Gradio's URL fetching); a
native library that opens its own sockets bypasses it (the kernel guard refuses its UDP sockets and its TCP
connects to ports not configured), and the model runtime is a child process bound to loopback.
tests/test_native_egress.py traces a real ingest and question at the system-call level to show it; run in a
loopback-only network namespace (`loopback_only_network`), the kernel refuses native connections to any other
address too (docs/security.md, "Native libraries")."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "TOKENIZERS_PARALLELISM": "false",
    "DO_NOT_TRACK": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
UNSPECIFIED = frozenset({"", "0.0.0.0", "::"})  # bind addresses (a server listening), never a destination


def apply_offline_env() -> None:
    """Set every switch unless the caller already set it explicitly."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    # Presidio warns once per foreign-language recognizer it skips; that is noise, not news.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)


class EgressRefused(ConnectionRefusedError):
    """A connection to a host that is neither loopback nor an allowlisted model host."""


class ResolutionRefused(socket.gaierror):
    """A DNS look-up of a name that is neither loopback nor an allowlisted model host."""


_real: dict[str, Callable[..., Any]] = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
         "getaddrinfo": socket.getaddrinfo, "gethostbyname": socket.gethostbyname,
         "gethostbyname_ex": socket.gethostbyname_ex}
_lock = threading.Lock()
_allowed_names: set[str] = set()
_allowed_ips: set[str] = set()
_refusals: list[str] = []


def host_of(url_or_host: str) -> str:
    """The host part of a URL or of `host[:port]` ("" when there is none), lower-cased, without IPv6 brackets."""
    text = (url_or_host or "").strip()
    if not text:
        return ""
    parts = urlsplit(text if "://" in text else f"//{text}")
    return (parts.hostname or "").lower()


def is_loopback_host(host: str) -> bool:
    """True for loopback addresses and the names that mean them (no DNS asked)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def model_hosts(llm: Any) -> set[str]:
    """Hosts the configured backend may reach: the Ollama host for `ollama` (and for `auto` only over https, as
    `auto` never sends passages in plain HTTP to another machine), the OpenAI-compatible base URL for `openai`.
    Loopback hosts need no entry; everything else stays refused."""
    urls = backend_urls(llm)
    if llm.backend == "auto":
        urls = [u for u in urls if str(u).strip().lower().startswith("https://")]
    hosts = {host_of(u) for u in urls}
    return {h for h in hosts if h and not is_loopback_host(h)}


def backend_urls(llm: Any) -> list[str]:
    """The URLs the configured answer backend talks to: the Ollama host (`ollama`, `auto`) or the OpenAI-compatible
    base URL (`openai`); none for the in-process backends."""
    urls = {"ollama": [llm.ollama_host], "auto": [llm.ollama_host], "openai": [llm.openai_base_url]}
    return list(urls.get(llm.backend, []))


def _permitted(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip().strip("[]").lower().split("%", 1)[0]  # drop an IPv6 zone id
    return name in UNSPECIFIED or is_loopback_host(name) or name in _allowed_names or name in _allowed_ips


def _refuse(kind: str, host: object) -> str:
    message = f"egress guard: {kind} of non-loopback host {host!r} refused (only loopback and configured model hosts)"
    with _lock:
        _refusals.append(str(host))
    log.warning("egress_refused kind=%s host=%s", kind, host)
    return message


def _check_address(address: Any) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    if isinstance(address, tuple) and address and not _permitted(address[0]):
        raise EgressRefused(_refuse("connect", address[0]))


def _connect(self: socket.socket, address: Any) -> Any:
    _check_address(address)
    return _real["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> Any:
    _check_address(address)
    return _real["connect_ex"](self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _permitted(host):
        raise ResolutionRefused(socket.EAI_NONAME, _refuse("name resolution", host))
    found = _real["getaddrinfo"](host, *args, **kwargs)
    if host is not None and not is_loopback_host(str(host)):  # an allowlisted name: remember what it resolved to
        with _lock:
            _allowed_ips.update(str(info[4][0]).split("%", 1)[0] for info in found)
    return found


def _gethostbyname(host: str) -> str:
    if not _permitted(host):
        raise ResolutionRefused(socket.EAI_NONAME, _refuse("name resolution", host))
    return str(_real["gethostbyname"](host))


def _gethostbyname_ex(host: str) -> Any:
    if not _permitted(host):
        raise ResolutionRefused(socket.EAI_NONAME, _refuse("name resolution", host))
    return _real["gethostbyname_ex"](host)


def install_egress_guard(allowed_hosts: Iterable[str] = ()) -> None:
    """Refuse every connection and DNS look-up except loopback and `allowed_hosts` (names or addresses). Calling it
    again adds hosts to the allowlist; the guard is installed once per process."""
    with _lock:
        for host in allowed_hosts:
            name = host_of(host) or host.strip().lower()
            if name:
                _allowed_names.add(name)
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _getaddrinfo
    socket.gethostbyname = _gethostbyname
    socket.gethostbyname_ex = _gethostbyname_ex
    log.info("egress_guard installed allowed_hosts=%d kernel_loopback_only=%s", len(_allowed_names),
             loopback_only_network())


def loopback_only_network() -> bool:
    """Whether this process's network namespace has no interface but loopback (`unshare --net`, docs/security.md):
    then the kernel itself refuses every other destination, to native libraries as well."""
    try:
        return all(name == "lo" for _, name in socket.if_nameindex())
    except OSError:
        return False


def egress_guard_installed() -> bool:
    return socket.socket.connect is _connect  # type: ignore[comparison-overlap]


def refusals() -> list[str]:
    """Hosts refused so far in this process (tests assert none were tried)."""
    with _lock:
        return list(_refusals)


_DEFAULT_PORTS = {"http": 80, "https": 443, "redis": 6379, "rediss": 6379, "postgresql": 5432, "postgres": 5432}


def port_of(url: str) -> int:
    """The TCP port a URL names (its scheme's default when none is written); 0 for an empty or odd URL."""
    parts = urlsplit((url or "").strip())
    try:
        return parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return 0


def kernel_ports(settings: Any, extra: Iterable[str | int] = ()) -> set[int]:
    """Ports a native TCP connect may reach (kernel_egress): the backend's model host, Chroma, the PostgreSQL
    manifest, the server's own port (Gradio checks it is up), and `extra` (URLs or ports: the workers' broker, the
    ask-server)."""
    index = settings.index
    urls = [*backend_urls(settings.llm), index.chroma_url, index.manifest_url]
    ports = {port_of(u) for u in urls} | {int(settings.ui.port)}
    ports |= {e if isinstance(e, int) else port_of(e) for e in extra}
    return {p for p in ports if p > 0}


def install_kernel_guard(settings: Any, extra: Iterable[str | int] = (), off_because: str = "") -> str:
    """Landlock and seccomp (assistant/kernel_egress.py) unless `security.kernel_egress` is off or the command
    gives `off_because` (`models install`: pip, its child, must resolve and reach the package registry; seccomp's
    no-UDP rule stops its DNS); call it before any thread starts. Returns the `kernel_egress: ...` status line (also
    logged)."""
    from assistant import kernel_egress

    if off_because:
        line = f"kernel_egress: landlock=off, seccomp=off ({off_because})"
        log.info(line)
        return line
    if not settings.security.kernel_egress:
        line = "kernel_egress: landlock=off (security.kernel_egress=false), seccomp=off (same)"
        log.warning(line)
        return line
    return kernel_egress.install(kernel_ports(settings, extra))
