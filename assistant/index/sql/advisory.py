"""The case lock across machines: a PostgreSQL session advisory lock on a hash of the case id, used in place of the
file lock (`index.durable.CaseLock`) when the manifest is in PostgreSQL, with the same behaviour: one writer per case,
a second one fails at once naming the holder or waits up to `wait` s, saying so once.

Each held lock has a connection of its own (a session lock is re-entrant within one session, so sharing one would let
two threads of a process in together); connections are kept for reuse once unlocked (`LockConnections`: a new one
cost ~80 ms on a loaded machine, benchmarks/bench_manifest_store.py). The server drops the lock when its session
ends: a holder killed even by SIGKILL, or whose machine died (after TCP keepalive gives up), never leaves the case
locked. The holder's description
(pid, what, since, host) is its connection's application_name, read from pg_stat_activity by whoever waits."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any

from assistant.index.durable import POLL_S, CaseLocked
from assistant.index.manifest import OnWait
from assistant.index.sql.postgres import connect

log = logging.getLogger(__name__)

HOLDER_SQL = """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid::bigint = %s AND l.objid::bigint = %s
AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


def lock_key(case: str) -> int:
    """The advisory lock's bigint key: the first 8 bytes of sha256 over a prefix and the case id."""
    return int.from_bytes(hashlib.sha256(f"assistant-case-lock\0{case}".encode()).digest()[:8], "big", signed=True)


class LockConnections:
    """Idle connections for case locks, reused; a held lock never shares its session."""

    def __init__(self, url: str, allow_remote: bool, keep: int = 4) -> None:
        self.url = url
        self.allow_remote = allow_remote
        self.keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def take(self) -> Any:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return self.new()

    def new(self) -> Any:
        return connect(self.url, self.allow_remote, "case lock")

    def give(self, conn: Any) -> None:
        with self._lock:
            if not conn.closed and len(self._idle) < self.keep:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class PgCaseLock:
    def __init__(self, connections: LockConnections, case: str, *, wait: float = 0.0,
                 on_wait: OnWait | None = None) -> None:
        self.connections = connections
        self.case = case
        self.key = lock_key(case)
        self.wait = wait
        self.on_wait = on_wait
        self._conn: Any = None

    def holder(self, conn: Any) -> str:
        """Who holds the lock, as the holder named itself ("pid 123 (ingest) since ... on host")."""
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        row = conn.execute(HOLDER_SQL, (unsigned >> 32, unsigned & 0xFFFF_FFFF)).fetchone()
        return str(row[0]) if row and row[0] else "another process"

    def _try(self, conn: Any) -> tuple[Any, bool]:
        """(the connection, whether it now holds the lock); a kept connection the server dropped is replaced once."""
        import psycopg

        try:
            return conn, bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])
        except psycopg.OperationalError:
            conn.close()
            conn = self.connections.new()
            return conn, bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])

    def acquire(self, what: str = "ingest") -> None:
        conn = self.connections.take()
        deadline = time.monotonic() + max(self.wait, 0.0)
        told = False
        try:
            while True:
                conn, held = self._try(conn)
                if held:
                    break
                if time.monotonic() >= deadline:
                    raise CaseLocked(
                        f"case {self.case!r} is being written by {self.holder(conn)}; nothing was changed. Try again "
                        "when it finishes, or wait for it: --wait SECONDS")
                if not told:
                    message = f"case {self.case!r} is being written by {self.holder(conn)}; waiting up to " \
                              f"{self.wait:g} s"
                    log.warning("case lock busy case=%s wait_s=%g", self.case, self.wait)
                    if self.on_wait is not None:
                        self.on_wait(message)
                    told = True
                time.sleep(POLL_S)
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            name = f"pid {os.getpid()} ({what}) since {since} on {socket.gethostname()}"
            conn.execute("SELECT set_config('application_name', %s, false)", (name[:63],))
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            unlocked = bool(conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,)).fetchone()[0])
        except Exception:
            unlocked = False
        if unlocked:
            self.connections.give(conn)
        else:
            conn.close()  # ends the session: the lock is gone whatever the unlock said

    def __enter__(self) -> PgCaseLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
