"""The manifest in PostgreSQL (`index.manifest_url`), for several machines writing and reading one set of cases.

The URL is checked before anything connects: a host that is not this machine (loopback, or a unix socket folder) is
refused unless `index.allow_remote` is set AND the URL asks for `sslmode=verify-full` (TLS with the server's name
checked against a CA), so evidence metadata never crosses a network in clear or to an unverified server. The password,
when the URL holds one, is never logged or shown (use ~/.pgpass or PGPASSFILE instead). Text columns are `COLLATE "C"`:
rows order byte-wise, as in SQLite, whatever the database's locale."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from assistant.errors import AssistantError
from assistant.index.client import is_loopback_host
from assistant.index.manifest import OnWait, SqlManifest
from assistant.index.sql.db import Db, Params

log = logging.getLogger(__name__)

SCHEMA_LOCK = 0x6173_7369_7374  # pg_advisory_xact_lock key serialising CREATE TABLE IF NOT EXISTS across processes
SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (case_id TEXT COLLATE "C", source TEXT COLLATE "C", sha256 TEXT COLLATE "C",
    n_chunks INTEGER, status TEXT, updated DOUBLE PRECISION, origin TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, source));
CREATE TABLE IF NOT EXISTS cases (case_id TEXT COLLATE "C" PRIMARY KEY, generation BIGINT);
CREATE TABLE IF NOT EXISTS pending (case_id TEXT COLLATE "C", source TEXT COLLATE "C", sha256 TEXT COLLATE "C",
    origin TEXT COLLATE "C", n_chunks INTEGER, started DOUBLE PRECISION, PRIMARY KEY (case_id, source, sha256));
"""


def check_url(url: str, allow_remote: bool) -> dict[str, str]:
    """The URL's connection parameters; refused (with the reason, never the password) when it would leave the
    machine without `allow_remote` and verified TLS."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url.strip()).items() if v is not None}
    except Exception as exc:
        raise AssistantError(f"ASSISTANT_INDEX__MANIFEST_URL is not a PostgreSQL URL ({type(exc).__name__})") from exc
    hosts = [h for h in (params.get("host") or os.environ.get("PGHOST", "")).split(",") if h]
    hosts += [h for h in params.get("hostaddr", "").split(",") if h]
    remote = [h for h in hosts if not h.startswith("/") and not is_loopback_host(h)]
    where = shown(params)
    if remote and not allow_remote:
        raise AssistantError(f"ASSISTANT_INDEX__MANIFEST_URL ({where}) is not on this machine (loopback or a unix "
                             "socket). Set ASSISTANT_INDEX__ALLOW_REMOTE=true for a shared database on a trusted "
                             "network, with sslmode=verify-full in the URL")
    if remote and params.get("sslmode") != "verify-full":
        raise AssistantError(f"ASSISTANT_INDEX__MANIFEST_URL ({where}) reaches another machine: add "
                             "sslmode=verify-full (and sslrootcert=CA file) so the link is encrypted and the server "
                             "checked")
    return params


def shown(params: dict[str, str]) -> str:
    """host:port/dbname (user), for messages and logs: never the password."""
    return (f"{params.get('host', '(socket)')}:{params.get('port', '5432')}/{params.get('dbname', '')}"
            f" as {params.get('user', '(default user)')}")


def connect(url: str, allow_remote: bool, purpose: str) -> Any:
    """An autocommit connection (each write is an explicit transaction); the application name says who holds it."""
    import psycopg

    params = check_url(url, allow_remote)
    name = f"assistant {purpose} pid {os.getpid()} on {socket.gethostname()}"[:63]
    try:
        return psycopg.connect(url.strip(), autocommit=True, application_name=name,
                               connect_timeout=int(params.get("connect_timeout", "10")))
    except psycopg.Error as exc:
        raise AssistantError(f"PostgreSQL manifest not reachable at {shown(params)} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}); see docs/runbook-workers.md, or "
                             "unset ASSISTANT_INDEX__MANIFEST_URL for the per-machine manifest.sqlite") from exc


class PgDb:
    """`index.sql.db.Db` on one psycopg connection (threads share it, serialised by a lock). A connection the server
    dropped (a restart, an idle timeout) is made again before the next transaction, and a read that found it dropped
    is repeated once; a write interrupted that way was rolled back by the server and raises."""

    rowid = "id"
    dialect = "postgres"

    def __init__(self, url: str, allow_remote: bool) -> None:
        self.url = url
        self.allow_remote = allow_remote
        self.conn = connect(url, allow_remote, "manifest")
        self._lock = threading.RLock()
        self._depth = 0

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")  # our statements hold no literal '?' or '%'

    def _live(self) -> None:
        if self.conn.closed and not self._depth:
            log.warning("manifest connection lost; reconnecting")
            self.conn = connect(self.url, self.allow_remote, "manifest")

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with self._lock:
            self._live()
            try:
                return list(self.conn.execute(self._sql(sql), tuple(params)).fetchall())
            except psycopg.OperationalError:
                if self._depth or not self.conn.closed:
                    raise
                self._live()
                return list(self.conn.execute(self._sql(sql), tuple(params)).fetchall())

    def run(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            return int(self.conn.execute(self._sql(sql), tuple(params)).rowcount)

    def many(self, sql: str, seq: Sequence[Params]) -> None:
        if not seq:
            return
        with self._lock, self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), [tuple(p) for p in seq])

    @contextmanager
    def tx(self) -> Iterator[None]:
        with self._lock:
            self._live()
            self._depth += 1
            try:
                with self.conn.transaction():
                    yield
            finally:
                self._depth -= 1

    def script(self, sql: str) -> None:
        """Create tables once across every process and machine (CREATE ... IF NOT EXISTS races otherwise)."""
        with self.tx():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            self.conn.execute(sql)

    def close(self) -> None:
        with self._lock:
            self.conn.close()


class PgManifest(SqlManifest):
    """The manifest's rows in PostgreSQL; the case lock is an advisory lock in the same database."""

    def __init__(self, url: str, allow_remote: bool = False) -> None:
        from assistant.index.sql.advisory import LockConnections

        self.url = url
        self.allow_remote = allow_remote
        db = PgDb(url, allow_remote)
        super().__init__(db)
        db.script(SCHEMA)
        self.locks = LockConnections(url, allow_remote)
        log.info("manifest postgres at %s", shown(check_url(url, allow_remote)))

    def open_db(self) -> Db:
        return PgDb(self.url, self.allow_remote)

    def close(self) -> None:
        self.locks.close()
        super().close()

    def case_lock(self, case: str, *, wait: float = 0.0, on_wait: OnWait | None = None) -> Any:
        from assistant.index.sql.advisory import PgCaseLock

        return PgCaseLock(self.locks, case, wait=wait, on_wait=on_wait)
