"""A Redis server for the workers, run from Debian's `redis-server` (scripts/install_redis.sh): used by tests and
benchmarks (a free loopback port, its own folder, no persistence) and by `assistant workers broker`.

The config written here binds the given address (loopback by default) with protected mode on, disables the
commands an attacker would use to rewrite the server (CONFIG, DEBUG, MODULE...), and sets `requirepass` when a
password is given; persistence (append-only file) is on unless `persist=False` (tests)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
from pathlib import Path
from types import TracebackType

from assistant.errors import AssistantError
from assistant.procs import free_port, stop_process, wait_ready

log = logging.getLogger(__name__)

DISABLED = ("CONFIG", "DEBUG", "MODULE", "SHUTDOWN", "FLUSHALL", "FLUSHDB", "SLAVEOF", "REPLICAOF", "MIGRATE")


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def redis_config(folder: Path, host: str, port: int, password: str = "", persist: bool = True) -> str:
    lines = [f"bind {host}", "protected-mode yes", f"port {int(port)}", f'dir "{folder}"', "daemonize no",
             f'logfile "{folder / "redis.log"}"', "save \"\"", f"appendonly {'yes' if persist else 'no'}",
             "appendfsync everysec"]
    if password:
        if any(c.isspace() or c == '"' for c in password):
            raise AssistantError("the broker password may not hold spaces or quotes")
        lines.append(f'requirepass "{password}"')
    lines += [f'rename-command {name} ""' for name in DISABLED]
    return "\n".join(lines) + "\n"


class RedisServer:
    """`with RedisServer(folder) as broker:` starts redis-server, waits until it answers PING, stops it on exit;
    `broker.url` is what ASSISTANT_WORKERS__BROKER_URL should hold."""

    def __init__(self, folder: Path, port: int = 0, host: str = "127.0.0.1", password: str = "",
                 persist: bool = True, start_timeout_s: float = 20.0) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port or free_port()
        self.password = password
        self.persist = persist
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def start(self) -> RedisServer:
        binary = redis_binary()
        if binary is None:
            raise AssistantError("redis-server is not installed: run `bash scripts/install_redis.sh` (make install)")
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = self.folder / "redis.conf"
        config.write_text(redis_config(self.folder, self.host, self.port, self.password, self.persist),
                          encoding="utf-8")
        config.chmod(0o600)  # it may hold the password
        self.proc = subprocess.Popen([binary, str(config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        failure = wait_ready(self.proc, self.alive, self.start_timeout_s, f"{self.host}:{self.port}", poll_s=0.05)
        if failure is not None:
            self.stop()
            raise AssistantError(f"redis-server {failure} (see {self.folder / 'redis.log'})")
        log.info("redis started port=%d pid=%d", self.port, self.proc.pid)
        return self

    def alive(self) -> bool:
        """True when the server answers PING (with the password, when one is set)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                if self.password:
                    sock.sendall(f"AUTH {self.password}\r\n".encode())
                    if not sock.recv(64).startswith(b"+OK"):
                        return False
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
