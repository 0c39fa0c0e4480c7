"""The cross-case identifier index: one SQLite file (WAL) under index_dir mapping a canonical identifier to every
(case, chunk, source, locator) that mentions it, the aliases texts declare, and when each source was indexed.

One writer at a time (a process-local lock plus SQLite's own write lock); readers never block it (WAL). A source is
replaced as a whole, in one transaction, so the index never holds half of a re-ingested file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS mentions (
    value TEXT NOT NULL, type TEXT NOT NULL, case_id TEXT NOT NULL, source TEXT NOT NULL,
    chunk_id TEXT NOT NULL, locator TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (value, case_id, chunk_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mentions_source ON mentions (case_id, source);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, case_id TEXT NOT NULL, source TEXT NOT NULL, chunk_id TEXT NOT NULL,
    PRIMARY KEY (name, alias, case_id, chunk_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_alias ON aliases (alias);
CREATE INDEX IF NOT EXISTS aliases_source ON aliases (case_id, source);
CREATE TABLE IF NOT EXISTS pending_mentions (
    case_id TEXT NOT NULL, source TEXT NOT NULL, value TEXT NOT NULL, type TEXT NOT NULL, chunk_id TEXT NOT NULL,
    locator TEXT NOT NULL, count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_mentions_source ON pending_mentions (case_id, source);
CREATE TABLE IF NOT EXISTS pending_aliases (
    case_id TEXT NOT NULL, source TEXT NOT NULL, name TEXT NOT NULL, alias TEXT NOT NULL, chunk_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_aliases_source ON pending_aliases (case_id, source);
CREATE TABLE IF NOT EXISTS sources (
    case_id TEXT NOT NULL, source TEXT NOT NULL, chunks INTEGER NOT NULL, indexed REAL NOT NULL,
    PRIMARY KEY (case_id, source)
) WITHOUT ROWID;
"""

_PENDING = ("pending_mentions", "pending_aliases")  # rows staged for a source not yet swapped in (`stage`)


@dataclass(frozen=True)
class Mention:
    """One chunk that mentions an identifier (`count` times)."""

    value: str
    type: str
    case: str
    source: str
    chunk_id: str
    locator: str
    count: int


@dataclass(frozen=True)
class ChunkMentions:
    """What one chunk contributes: (value, type) -> occurrences, and (name, alias) pairs it declares."""

    chunk_id: str
    locator: str
    values: dict[tuple[str, str], int]
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Coverage:
    """How much the index covers: for a negative assurance ("no mention in N sources of M cases...")."""

    sources: int
    cases: int
    chunks: int
    indexed_up_to: str  # ISO 8601 UTC of the newest indexed source, "" when the index is empty


class LinkStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # One connection per store, shared by threads under the lock: opening and closing one per call made a
        # rebuild spend most of its time in WAL checkpoints on close (measured with cProfile, bench_links.py).
        self._conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ---- writes -------------------------------------------------------------------------------------------------
    def replace_source(self, case: str, source: str, chunks: Sequence[ChunkMentions]) -> int:
        """Replace everything one source contributed; returns the mention rows written."""
        rows = [(v, t, case, source, c.chunk_id, c.locator, n) for c in chunks for (v, t), n in c.values.items()]
        alias_rows = [(n, a, case, source, c.chunk_id) for c in chunks for n, a in c.aliases]

        def fill(conn: sqlite3.Connection) -> int:
            conn.executemany("INSERT OR REPLACE INTO mentions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?, ?, ?, ?)", alias_rows)
            return len(rows)

        return self._replace(case, source, len(chunks), fill)

    def _replace(self, case: str, source: str, chunks: int, fill: Callable[[sqlite3.Connection], int]) -> int:
        """One transaction: the source's mention and alias rows deleted, `fill` writes the new ones (returns the
        mention rows written), the source recorded with its chunk count, and rows still staged for it dropped (a
        sliced try that crashed, then the file indexed whole: nothing would ever read or drop them)."""
        with self._lock, self._connect() as conn, conn:
            conn.execute("DELETE FROM mentions WHERE case_id=? AND source=?", (case, source))
            conn.execute("DELETE FROM aliases WHERE case_id=? AND source=?", (case, source))
            rows = fill(conn)
            for table in _PENDING:
                conn.execute(f"DELETE FROM {table} WHERE case_id=? AND source=?", (case, source))
            conn.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)", (case, source, chunks, time.time()))
        return rows

    def stage(self, case: str, source: str, chunks: Sequence[ChunkMentions], fresh: bool) -> None:
        """Keep some of a source's rows aside, never read, until `commit_staged` (a large report indexed in slices,
        ingest.slices.index: its mentions wait here, not in memory, for the swap); `fresh` drops those of a try
        that did not finish first."""
        rows = [(case, source, v, t, c.chunk_id, c.locator, n) for c in chunks for (v, t), n in c.values.items()]
        alias_rows = [(case, source, n, a, c.chunk_id) for c in chunks for n, a in c.aliases]
        with self._lock, self._connect() as conn, conn:
            if fresh:
                for table in _PENDING:
                    conn.execute(f"DELETE FROM {table} WHERE case_id=? AND source=?", (case, source))
            conn.executemany("INSERT INTO pending_mentions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO pending_aliases VALUES (?, ?, ?, ?, ?)", alias_rows)

    def commit_staged(self, case: str, source: str, chunks: int) -> int:
        """`replace_source` with the rows staged for the source (of `chunks` chunks), in one transaction; returns the
        mention rows written."""
        key = (case, source)

        def fill(conn: sqlite3.Connection) -> int:
            rows = conn.execute("INSERT OR REPLACE INTO mentions SELECT value, type, case_id, source, chunk_id, "
                                "locator, count FROM pending_mentions WHERE case_id=? AND source=?", key).rowcount
            conn.execute("INSERT OR IGNORE INTO aliases SELECT name, alias, case_id, source, chunk_id "
                         "FROM pending_aliases WHERE case_id=? AND source=?", key)
            return int(rows)  # `_replace` then drops the staged rows

        return self._replace(case, source, chunks, fill)

    def drop_source(self, case: str, source: str) -> None:
        """Forget everything one source contributed (`assistant remove`)."""
        with self._lock, self._connect() as conn, conn:
            for table in ("mentions", "aliases", "sources", *_PENDING):
                conn.execute(f"DELETE FROM {table} WHERE case_id=? AND source=?", (case, source))

    def staged(self, case: str) -> dict[str, int]:
        """source -> rows staged for it (mentions and aliases) in one case (fsck: a crashed try's, `stage`)."""
        out: dict[str, int] = {}
        with self._connect() as conn:
            for table in _PENDING:
                for source, n in conn.execute(f"SELECT source, COUNT(*) FROM {table} WHERE case_id=? GROUP BY "
                                              "source", (case,)):
                    out[str(source)] = out.get(str(source), 0) + int(n)
        return out

    def drop_staged(self, case: str, source: str) -> None:
        """Forget the rows staged for one source (fsck --repair: its pending version is gone)."""
        with self._lock, self._connect() as conn, conn:
            for table in _PENDING:
                conn.execute(f"DELETE FROM {table} WHERE case_id=? AND source=?", (case, source))

    def case_sources(self, case: str) -> dict[str, int]:
        """source -> chunks indexed, for one case (fsck compares it with the case's manifest)."""
        with self._connect() as conn:
            rows = conn.execute("SELECT source, chunks FROM sources WHERE case_id=?", (case,)).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def drop_case(self, case: str) -> None:
        with self._lock, self._connect() as conn, conn:
            for table in ("mentions", "aliases", "sources", *_PENDING):
                conn.execute(f"DELETE FROM {table} WHERE case_id=?", (case,))

    # ---- reads --------------------------------------------------------------------------------------------------
    def mentions(self, values: Iterable[str]) -> list[Mention]:
        vals = sorted(set(values))
        if not vals:
            return []
        marks = ",".join("?" * len(vals))
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT value, type, case_id, source, chunk_id, locator, count FROM mentions WHERE value IN ({marks})"
                " ORDER BY case_id, source, chunk_id", vals).fetchall()
        return [Mention(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6])) for r in rows]

    def alias_group(self, name: str, limit: int = 50) -> set[str]:
        """Every name linked to `name` through declared aliases, transitively (bounded)."""
        group, frontier = {name}, [name]
        with self._connect() as conn:
            while frontier and len(group) < limit:
                current = frontier.pop()
                for (other,) in conn.execute("SELECT alias FROM aliases WHERE name=? UNION "
                                             "SELECT name FROM aliases WHERE alias=?", (current, current)):
                    if other not in group:
                        group.add(str(other))
                        frontier.append(str(other))
        return group

    def case_values(self, case: str) -> dict[str, str]:
        """value -> type of every identifier indexed for one case."""
        with self._connect() as conn:
            rows = conn.execute("SELECT DISTINCT value, type FROM mentions WHERE case_id=?", (case,)).fetchall()
        return {str(v): str(t) for v, t in rows}

    def chunk_values(self, case: str) -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
        """chunk_id -> (source, locator, [(value, type)]) for one case (the link chart's co-mentions)."""
        out: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}
        with self._connect() as conn:
            for cid, src, loc, v, t in conn.execute(
                    "SELECT chunk_id, source, locator, value, type FROM mentions WHERE case_id=? "
                    "ORDER BY chunk_id, value", (case,)):
                out.setdefault(str(cid), (str(src), str(loc), []))[2].append((str(v), str(t)))
        return out

    def values_in_chunks(self, case: str, chunk_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """chunk_id -> [(value, type)] for some chunks of one case."""
        ids = sorted(set(chunk_ids))
        out: dict[str, list[tuple[str, str]]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        with self._connect() as conn:
            for cid, v, t in conn.execute(f"SELECT chunk_id, value, type FROM mentions WHERE case_id=? AND chunk_id IN "
                                          f"({marks}) ORDER BY chunk_id, value", [case, *ids]):
                out.setdefault(str(cid), []).append((str(v), str(t)))
        return out

    def case_aliases(self, case: str) -> list[tuple[str, str, str]]:
        """(name, alias, chunk_id) declared in one case."""
        with self._connect() as conn:
            rows = conn.execute("SELECT name, alias, chunk_id FROM aliases WHERE case_id=? ORDER BY chunk_id, name",
                                (case,)).fetchall()
        return [(str(n), str(a), str(c)) for n, a, c in rows]

    def coverage(self) -> Coverage:
        with self._connect() as conn:
            n_sources, n_cases, n_chunks, newest = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT case_id), COALESCE(SUM(chunks), 0), MAX(indexed) FROM sources"
            ).fetchone()
        when = ""
        if newest is not None:
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(newest)))
        return Coverage(int(n_sources), int(n_cases), int(n_chunks), when)

    def cases(self) -> list[str]:
        with self._connect() as conn:
            return [str(r[0]) for r in conn.execute("SELECT DISTINCT case_id FROM sources ORDER BY case_id")]
