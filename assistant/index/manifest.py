"""The ingest manifest (index_dir/manifest.sqlite): which version of each source a case serves, and which are in flight.

`sources` holds one row per served source: its sha256 (of the exact bytes that were parsed), where it came from
(`origin`: the ingest root as given, or "upload") and its chunk count. `pending` holds a version being written: its
chunks may be in Chroma, but nothing serves them until `complete()` moves the row into `sources` in one SQLite
transaction (the atomic swap). `cases.generation` moves on every change a reader must see; `digest()` summarises
the served versions, so a derived file (BM25, catalog) stamped with both is stale the moment either moves."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.perms import private_dir, private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (case_id TEXT, source TEXT, sha256 TEXT, n_chunks INTEGER, status TEXT,
    updated REAL, PRIMARY KEY (case_id, source));
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, generation INTEGER);
CREATE TABLE IF NOT EXISTS pending (case_id TEXT, source TEXT, sha256 TEXT, origin TEXT, n_chunks INTEGER,
    started REAL, PRIMARY KEY (case_id, source, sha256));
"""


@dataclass(frozen=True)
class SourceRow:
    source: str
    sha256: str
    origin: str
    n_chunks: int


class Manifest:
    """One SQLite file shared by every process of an index dir; writes of one case are serialised by CaseLock."""

    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
        private_file(path)
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(SCHEMA)
            columns = {str(r[1]) for r in self._db.execute("PRAGMA table_info(sources)")}
            if "origin" not in columns:  # an index from before source identity: origin unknown ("")
                self._db.execute("ALTER TABLE sources ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
            # an old-style 'pending' row in sources (a crash before this format): move it where it belongs
            self._db.execute("INSERT OR IGNORE INTO pending SELECT case_id, source, sha256, origin, n_chunks, updated"
                             " FROM sources WHERE status != 'complete'")
            self._db.execute("DELETE FROM sources WHERE status != 'complete'")
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- reads ----------------------------------------------------------------------------------------------
    def list_cases(self) -> list[str]:
        with self._lock:
            return [str(r[0]) for r in self._db.execute("SELECT case_id FROM cases ORDER BY case_id")]

    def has_case(self, case: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM cases WHERE case_id=?", (case,)).fetchone() is not None

    def generation(self, case: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT generation FROM cases WHERE case_id=?", (case,)).fetchone()
        return int(row[0]) if row else -1

    def served(self, case: str) -> dict[str, SourceRow]:
        """source -> the complete version a reader may see."""
        with self._lock:
            rows = self._db.execute("SELECT source, sha256, origin, n_chunks FROM sources WHERE case_id=? "
                                    "ORDER BY source", (case,)).fetchall()
        return {str(r[0]): SourceRow(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows}

    def pending(self, case: str) -> list[SourceRow]:
        with self._lock:
            rows = self._db.execute("SELECT source, sha256, origin, n_chunks FROM pending WHERE case_id=? "
                                    "ORDER BY source, sha256", (case,)).fetchall()
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
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO cases VALUES (?, 0)", (case,))
            self._db.execute("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?)",
                             (case, row.source, row.sha256, row.origin, row.n_chunks, time.time()))
            self._db.commit()

    def complete(self, case: str, row: SourceRow) -> None:
        """The swap: the new version becomes the served one and leaves `pending`, in one transaction."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sources (case_id, source, sha256, n_chunks, status, updated,"
                             " origin) VALUES (?, ?, ?, ?, 'complete', ?, ?)",
                             (case, row.source, row.sha256, row.n_chunks, time.time(), row.origin))
            self._db.execute("DELETE FROM pending WHERE case_id=? AND source=?", (case, row.source))
            self._db.execute("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))
            self._db.commit()

    def drop(self, case: str, source: str) -> None:
        """Forget a source (served and pending versions); the caller deletes its chunks."""
        with self._lock:
            self._db.execute("DELETE FROM sources WHERE case_id=? AND source=?", (case, source))
            self._db.execute("DELETE FROM pending WHERE case_id=? AND source=?", (case, source))
            self._db.execute("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))
            self._db.commit()

    def drop_pending(self, case: str, source: str, sha256: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pending WHERE case_id=? AND source=? AND sha256=?", (case, source, sha256))
            self._db.commit()

    def delete_case(self, case: str) -> None:
        with self._lock:
            for table in ("sources", "pending", "cases"):
                self._db.execute(f"DELETE FROM {table} WHERE case_id=?", (case,))
            self._db.commit()

    def bump(self, case: str) -> None:
        with self._lock:
            self._db.execute("UPDATE cases SET generation = generation + 1 WHERE case_id=?", (case,))
            self._db.commit()
