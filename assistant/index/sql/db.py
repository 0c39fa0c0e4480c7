"""The small SQL surface the manifest and the dedup key tables are written against, so one set of statements runs on
SQLite (the default, unchanged file format) and on PostgreSQL (`postgres.PgDb`).

Statements use `?` placeholders and SQL both engines accept (`INSERT ... ON CONFLICT`); what differs is named here:
the column that orders rows by insertion (`rowid` / an identity column). Every write runs inside `tx()`: one
transaction, committed at the end or rolled back on an exception, so a version still goes live in one transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

Params = Sequence[Any]


class Db(Protocol):
    rowid: str  # the column that orders rows of msg_keys by insertion
    dialect: str  # "sqlite" | "postgres": which schema (column types) to create

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    def run(self, sql: str, params: Params = ()) -> int: ...  # inside tx(); returns the rows changed

    def many(self, sql: str, seq: Sequence[Params]) -> None: ...  # inside tx()

    def tx(self) -> Any: ...  # a context manager: one transaction (nested ones join the outer one)

    def script(self, sql: str) -> None: ...  # CREATE ... IF NOT EXISTS statements

    def close(self) -> None: ...


class SqliteDb:
    """One connection to index_dir/manifest.sqlite per opener, serialised by a lock (threads share it)."""

    rowid = "rowid"
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        self._lock = threading.RLock()
        self._depth = 0

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self.conn.execute(sql, tuple(params)).fetchall())

    def run(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            return int(self.conn.execute(sql, tuple(params)).rowcount)

    def many(self, sql: str, seq: Sequence[Params]) -> None:
        with self._lock:
            self.conn.executemany(sql, [tuple(p) for p in seq])

    @contextmanager
    def tx(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                if self._depth == 1:
                    self.conn.rollback()
                raise
            else:
                if self._depth == 1:
                    self.conn.commit()
            finally:
                self._depth -= 1

    def script(self, sql: str) -> None:
        with self._lock:
            self.conn.executescript(sql)

    def close(self) -> None:
        with self._lock:
            self.conn.close()
