"""Where the keyword terms counted at ingest wait for finalize (keywords/counted.py): one SQLite file per case beside
its keyword index (`bm25/<case>.terms.sqlite`, removed with the case's other derived files).

`batches` holds one record per committed batch, numbered in commit order; `members` says which record holds the live
copy of each chunk, keyed by chunk id (ids carry the version's sha256). The writer keeps it exact:
- a batch's members are forgotten before its Chroma write and recorded after it, in write order under the case lock,
  so a chunk written again never counts twice, and a chunk whose record was not written has no member (finalize
  reads that chunk from Chroma instead);
- a version's members are cut to the chunks kept when it is (re)started, and dropped with it when it is discarded,
  replaced (swap) or removed;
- finalize merges only the members of served versions: a batch of a version never swapped in is never merged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from assistant.perms import private_dir, private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, sha TEXT NOT NULL,
                                    blob BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS batches_version ON batches (source, sha);
CREATE TABLE IF NOT EXISTS members (chunk_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, source TEXT NOT NULL,
                                    sha TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS members_version ON members (source, sha);
"""
IN_LIST = 500  # ids per `IN (...)`, well under SQLite's variable limit


def ledger_path(index_dir: Path, case: str) -> Path:
    return index_dir / "bm25" / f"{case}.terms.sqlite"


class TermLedger:
    def __init__(self, index_dir: Path, case: str) -> None:
        self.index_dir = index_dir
        self.path = ledger_path(index_dir, case)
        self._private = False

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        private_dir(self.path.parent)
        with closing(sqlite3.connect(self.path, timeout=60.0)) as conn, conn:
            conn.executescript(SCHEMA)
            if not self._private:
                self._private = bool(private_file(self.path))  # 0600, as the index's other files
            yield conn

    def exists(self) -> bool:
        return self.path.exists()

    def record(self, source: str, sha: str, chunk_ids: Sequence[str], blob: bytes) -> None:
        """A committed batch's record and its chunks' membership, in one transaction."""
        with self._tx() as conn:
            seq = conn.execute("INSERT INTO batches (source, sha, blob) VALUES (?, ?, ?)",
                               (source, sha, blob)).lastrowid
            conn.executemany("INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?)",
                             [(cid, seq, source, sha) for cid in chunk_ids])

    def forget(self, chunk_ids: Sequence[str]) -> None:
        """These chunks are about to be written again (or were deleted): none of their records counts any more."""
        with self._tx() as conn:
            for start in range(0, len(chunk_ids), IN_LIST):
                part = list(chunk_ids[start : start + IN_LIST])
                conn.execute(f"DELETE FROM members WHERE chunk_id IN ({','.join('?' * len(part))})", part)

    def keep_only(self, source: str, sha: str, keep: set[str]) -> None:
        """A version (re)started: only its chunks already committed and kept stay members."""
        if not self.exists():
            return
        with self._tx() as conn:
            rows = conn.execute("SELECT chunk_id FROM members WHERE source = ? AND sha = ?", (source, sha)).fetchall()
        gone = [cid for (cid,) in rows if cid not in keep]
        if gone:
            self.forget(gone)

    def drop(self, source: str, sha: str | None = None, keep_sha: str | None = None) -> None:
        """Every record of a source (`sha` None), of one version, or of all but `keep_sha`."""
        if not self.exists():
            return
        where, args = "source = ?", [source]
        if sha is not None:
            where, args = where + " AND sha = ?", [*args, sha]
        if keep_sha is not None:
            where, args = where + " AND sha != ?", [*args, keep_sha]
        with self._tx() as conn:
            conn.execute(f"DELETE FROM members WHERE {where}", args)  # fixed column names only
            conn.execute(f"DELETE FROM batches WHERE {where}", args)

    def members(self, served: dict[str, str]) -> dict[str, dict[str, int]]:
        """source -> (chunk id -> the record holding it), for the served versions (source -> sha256)."""
        if not self.exists():
            return {}
        out: dict[str, dict[str, int]] = {}
        with self._tx() as conn:
            for source, sha in served.items():
                rows = conn.execute("SELECT chunk_id, seq FROM members WHERE source = ? AND sha = ?", (source, sha))
                out[source] = dict(rows.fetchall())
        return out

    def records(self, seqs: set[int]) -> Iterator[tuple[int, bytes]]:
        """(seq, blob) of the given records, in commit order."""
        with self._tx() as conn:
            for seq in sorted(seqs):
                row = conn.execute("SELECT blob FROM batches WHERE seq = ?", (seq,)).fetchone()
                if row is not None:
                    yield seq, bytes(row[0])
