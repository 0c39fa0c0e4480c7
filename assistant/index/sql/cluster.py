"""A throwaway PostgreSQL cluster on loopback, for tests and benchmarks (as `index.server.ChromaServer` for Chroma):
initdb in a fresh temporary folder, a free port on 127.0.0.1 only, the unix socket in that folder, trust auth only on
the socket and 127.0.0.1, and everything stopped and deleted at the end. The binaries are Debian's `postgresql`
(scripts/install_postgres.sh); PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres`
account that package creates."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.errors import AssistantError
from assistant.procs import free_port, wait_ready

log = logging.getLogger(__name__)

HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"  # nothing else may connect


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else the newest /usr/lib/postgresql/N/bin (Debian keeps them there)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return versions[-1] if versions else None


def missing_binaries() -> str:
    """Why a cluster cannot start here ("" when it can): for a test's skip reason."""
    absent = [n for n in ("initdb", "postgres") if pg_bin(n) is None]
    if absent:
        return f"PostgreSQL server binaries absent ({', '.join(absent)}): run `make postgres` (Debian's postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no `postgres` account to run the server as (Debian's postgresql creates it)"
    return ""


class PgCluster:
    """`with PgCluster() as pg:` -> `pg.url` is what `index.manifest_url` should hold (database `assistant`)."""

    def __init__(self, start_timeout_s: float = 60.0) -> None:
        self.port = free_port()
        self.start_timeout_s = start_timeout_s
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://assistant@127.0.0.1:{self.port}/assistant"

    def _as_owner(self) -> dict[str, Any]:
        return {"user": "postgres"} if os.geteuid() == 0 else {}

    def start(self) -> PgCluster:
        why = missing_binaries()
        if why:
            raise AssistantError(why)
        self.dir = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        if os.geteuid() == 0:
            os.chown(self.dir, pwd.getpwnam("postgres").pw_uid, -1)
        data = self.dir / "data"
        init = subprocess.run([str(pg_bin("initdb")), "-D", str(data), "-U", "assistant", "--auth=trust",
                               "--encoding=UTF8", "--locale=C", "--no-sync"], capture_output=True, check=False,
                              stdin=subprocess.DEVNULL, **self._as_owner())
        if init.returncode != 0:
            self.stop()
            raise AssistantError(f"initdb failed: {init.stderr.decode(errors='replace')[-500:]}")
        (data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
        log_path = self.dir / "postgres.log"
        with log_path.open("ab") as log_file:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [str(pg_bin("postgres")), "-D", str(data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={self.dir}", "-c", "max_connections=50"],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, **self._as_owner())
        self._wait_ready(log_path)
        log.info("postgres started port=%d pid=%d", self.port, self.proc.pid)
        return self

    def _wait_ready(self, log_path: Path) -> None:
        assert self.proc is not None
        failure = wait_ready(self.proc, self._create_database, self.start_timeout_s, f"127.0.0.1:{self.port}",
                             poll_s=0.2)
        if failure is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-500:]
            self.stop()
            raise AssistantError(f"PostgreSQL {failure}: {tail}")

    def _create_database(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(f"postgresql://assistant@127.0.0.1:{self.port}/postgres", autocommit=True,
                                 connect_timeout=2) as conn:
                conn.execute("CREATE DATABASE assistant")
        except psycopg.OperationalError:
            return False
        return True

    def database(self, name: str) -> str:
        """A new empty database in this cluster (one per test); its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql://assistant@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: clients are disconnected, nothing is lost
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
