"""The ingest manifest: which version of each source a case serves, and which are in flight. It lives in
index_dir/manifest.sqlite (the one-machine default) or in a PostgreSQL database several machines share
(`index.manifest_url`, `index.sql.postgres`); `open_manifest` picks. Both run the statements below (`index.sql.db`).

`sources` holds one row per served source: its sha256 (of the exact bytes that were parsed), where it came from
(`origin`: the ingest root as given, or "upload") and its chunk count. `pending` holds a version being written: its
chunks may be in Chroma, but nothing serves them until `complete()` moves the row into `sources` in one transaction
(the atomic swap). `cases.generation` moves on every change a reader must see; `digest()` summarises the served
versions, so a derived file (BM25, catalog) stamped with both is stale the moment either moves."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.index.sql.db import Db, SqliteDb
from assistant.perms import private_dir, private_file

if TYPE_CHECKING:
    from assistant.config import IndexSettings

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (case_id TEXT, source TEXT, sha256 TEXT, n_chunks INTEGER, status TEXT,
    updated REAL, PRIMARY KEY (case_id, source));
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, generation INTEGER);
CREATE TABLE IF NOT EXISTS pending (case_id TEXT, source TEXT, sha256 TEXT, origin TEXT, n_chunks INTEGER,
    started REAL, PRIMARY KEY (case_id, source, sha256));
"""
OnWait = Callable[[str], None]


@dataclass(frozen=True)
class SourceRow:
    source: str
    sha256: str
    origin: str
    n_chunks: int


class SqlManifest:
    """The manifest's reads and writes over a `Db`; writes of one case are serialised by the case lock
    (`case_lock`: a file lock beside a SQLite manifest, an advisory lock in PostgreSQL)."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()

    def open_db(self) -> Db:
        """A second connection to the same store (the dedup key tables live beside the manifest's rows)."""
        raise NotImplementedError

    def case_lock(self, case: str, *, wait: float = 0.0, on_wait: OnWait | None = None) -> Any:
        """The cross-process (PostgreSQL: cross-machine) writer lock of one case, a context manager."""
        raise NotImplementedError

    # ---- reads ----------------------------------------------------------------------------------------------
    def list_cases(self) -> list[str]:
        return [str(r[0]) for r in self.db.rows("SELECT case_id FROM cases ORDER BY case_id")]

    def has_case(self, case: str) -> bool:
        return bool(self.db.rows("SELECT 1 FROM cases WHERE case_id=?", (case,)))

    def generation(self, case: str) -> int:
        rows = self.db.rows("SELECT generation FROM cases WHERE case_id=?", (case,))
        return int(rows[0][0]) if rows else -1

    def served(self, case: str) -> dict[str, SourceRow]:
        """source -> the complete version a reader may see."""
        rows = self.db.rows("SELECT source, sha256, origin, n_chunks FROM sources WHERE case_id=? ORDER BY source",
                            (case,))
        return {str(r[0]): SourceRow(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows}

    def pending(self, case: str) -> list[SourceRow]:
        rows = self.db.rows("SELECT source, sha256, origin, n_chunks FROM pending WHERE case_id=? "
                            "ORDER BY source, sha256", (case,))
        return [SourceRow(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def digest(self, case: str) -> str:
        """sha256 over the served (source, sha256, n_chunks) rows: what a derived index must have been built from."""
        h = hashlib.sha256()
        for row in self.served(case).values():
            h.update(f"{row.source}\0{row.sha256}\0{row.n_chunks}\n".encode())
        return h.hexdigest()

    # ---- writes ---------------------------------------------------------------------------------------------
    def begin(self, case: str, row: SourceRow) -> None:
        """Record a version as in flight before any of its chunks is written."""
        with self.db.tx():
            self.db.run("INSERT INTO cases VALUES (?, 0) ON CONFLICT DO NOTHING", (case,))
            self.db.run("INSERT INTO pending VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, source, sha256) DO "
                        "UPDATE SET origin=excluded.origin, n_chunks=excluded.n_chunks, started=excluded.started",
                        (case, row.source, row.sha256, row.origin, row.n_chunks, time.time()))

    def complete(self, case: str, row: SourceRow) -> None:
        """The swap: the new version becomes the served one and leaves `pending`, in one transaction."""
        with self.db.tx():
            self.db.run("INSERT INTO sources (case_id, source, sha256, n_chunks, status, updated, origin) VALUES "
                        "(?, ?, ?, ?, 'complete', ?, ?) ON CONFLICT (case_id, source) DO UPDATE SET "
                        "sha256=excluded.sha256, n_chunks=excluded.n_chunks, status=excluded.status, "
                        "updated=excluded.updated, origin=excluded.origin",
                        (case, row.source, row.sha256, row.n_chunks, time.time(), row.origin))
            self.db.run("DELETE FROM pending WHERE case_id=? AND source=?", (case, row.source))
            self.db.run("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))

    def drop(self, case: str, source: str) -> None:
        """Forget a source (served and pending versions); the caller deletes its chunks."""
        with self.db.tx():
            self.db.run("DELETE FROM sources WHERE case_id=? AND source=?", (case, source))
            self.db.run("DELETE FROM pending WHERE case_id=? AND source=?", (case, source))
            self.db.run("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))

    def drop_pending(self, case: str, source: str, sha256: str) -> None:
        with self.db.tx():
            self.db.run("DELETE FROM pending WHERE case_id=? AND source=? AND sha256=?", (case, source, sha256))

    def delete_case(self, case: str) -> None:
        with self.db.tx():
            for table in ("sources", "pending", "cases"):
                self.db.run(f"DELETE FROM {table} WHERE case_id=?", (case,))

    def bump(self, case: str) -> None:
        with self.db.tx():
            self.db.run("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))


class Manifest(SqlManifest):
    """index_dir/manifest.sqlite, shared by every process of an index dir on one machine."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self.path = path
        db = SqliteDb(path)
        private_file(path)
        super().__init__(db)
        with db.tx():
            db.script(SCHEMA)
            columns = {str(r[1]) for r in db.rows("PRAGMA table_info(sources)")}
            if "origin" not in columns:  # an index from before source identity: origin unknown ("")
                db.run("ALTER TABLE sources ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
            # an old-style 'pending' row in sources (a crash before this format): move it where it belongs
            db.run("INSERT OR IGNORE INTO pending SELECT case_id, source, sha256, origin, n_chunks, updated"
                   " FROM sources WHERE status != 'complete'")
            db.run("DELETE FROM sources WHERE status != 'complete'")

    def open_db(self) -> Db:
        return SqliteDb(self.path)

    def case_lock(self, case: str, *, wait: float = 0.0, on_wait: OnWait | None = None) -> Any:
        from assistant.index.durable import CaseLock

        return CaseLock(self.path.parent, case, wait=wait, on_wait=on_wait)


def open_manifest(index_dir: Path, settings: IndexSettings | None = None) -> SqlManifest:
    """PostgreSQL when `index.manifest_url` is set (checked: loopback, or allow_remote with verified TLS), else
    index_dir/manifest.sqlite."""
    if settings is not None and settings.manifest_url.strip():
        from assistant.index.sql.postgres import PgManifest

        return PgManifest(settings.manifest_url, settings.allow_remote)
    return Manifest(index_dir / "manifest.sqlite")
