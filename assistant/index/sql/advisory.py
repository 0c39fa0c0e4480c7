"""The case lock across machines: a PostgreSQL session advisory lock on a hash of the case id, used in place of the
file lock (`index.durable.CaseLock`) when the manifest is in PostgreSQL, with the same behaviour: one writer per case,
a second one fails at once naming the holder or waits up to `wait` s, saying so once.

Each lock holds its own connection (a session lock is re-entrant within one session, so sharing one would let two
threads of a process in together). The server drops the lock when that connection ends: a holder killed even by
SIGKILL, or whose machine died (after TCP keepalive gives up), never leaves the case locked. The holder's description
(pid, what, since, host) is its connection's application_name, read from pg_stat_activity by whoever waits."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
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


class PgCaseLock:
    def __init__(self, url: str, allow_remote: bool, case: str, *, wait: float = 0.0,
                 on_wait: OnWait | None = None) -> None:
        self.url = url
        self.allow_remote = allow_remote
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

    def acquire(self, what: str = "ingest") -> None:
        conn = connect(self.url, self.allow_remote, "case lock")
        deadline = time.monotonic() + max(self.wait, 0.0)
        told = False
        try:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]:
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
        if self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            finally:
                self._conn.close()  # ends the session: the lock is gone even if the unlock failed
                self._conn = None

    def __enter__(self) -> PgCaseLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
