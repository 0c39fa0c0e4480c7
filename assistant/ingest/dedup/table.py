"""The message-key table of a case, beside the manifest (tables of their own in the manifest's store: the SQLite file
index_dir/manifest.sqlite, or the PostgreSQL database of `index.manifest_url`), so a lookup joins the manifest's
served versions in one query. The statements run on both (`index.sql.db`); only the schema's column types differ.

One row per key of each message of each source version: the key hash (keys.py), the content hash, the message's
id in its document, and its status: `indexed` (this source's chunks hold it; `chunk_ids` says which) or `merged`
(the `holder` source version holds it; `provenance` is where this source has it). No body is ever stored.

Crash safety: rows are written, keyed by the version's sha256, before the manifest swaps that version in, and every
read joins `sources`, so the rows of a version that is not served (a crashed ingest, a removed or replaced source)
never count; `prune` deletes them. `todo` lists holder messages whose shown provenance must be recomputed; it is
written in the same transaction as the rows that make it stale and emptied only after the holder chunks are patched,
so a crash in between is finished by the next writer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.index.sql.db import Db
from assistant.ingest.dedup.keys import MessageKeys

SCHEMA = """
CREATE TABLE IF NOT EXISTS msg_keys (case_id TEXT, source TEXT, sha256 TEXT, key BLOB, is_id INTEGER,
    has_id INTEGER, content BLOB, message_id TEXT, status TEXT, chunk_ids TEXT, holder TEXT, holder_sha TEXT,
    holder_msg TEXT, provenance TEXT);
CREATE INDEX IF NOT EXISTS msg_keys_by_key ON msg_keys (case_id, key);
CREATE INDEX IF NOT EXISTS msg_keys_by_source ON msg_keys (case_id, source, sha256, message_id);
CREATE INDEX IF NOT EXISTS msg_keys_by_holder ON msg_keys (case_id, holder, holder_sha, holder_msg);
CREATE TABLE IF NOT EXISTS msg_todo (case_id TEXT, source TEXT, sha256 TEXT, message_id TEXT,
    PRIMARY KEY (case_id, source, sha256, message_id));
"""
# PostgreSQL: byte strings are BYTEA, text sorts byte-wise (COLLATE "C") and an identity column keeps insertion order
PG_SCHEMA = SCHEMA.replace("BLOB", "BYTEA").replace("TEXT", 'TEXT COLLATE "C"').replace(
    "EXISTS msg_keys (case_id", "EXISTS msg_keys (id BIGINT GENERATED ALWAYS AS IDENTITY, case_id")
_SERVED = "JOIN sources s ON s.case_id = k.case_id AND s.source = k.source AND s.sha256 = k.sha256"


@dataclass(frozen=True)
class Holder:
    source: str
    sha256: str
    message_id: str
    same: bool  # same content: a duplicate; else a conflict (both kept)


@dataclass(frozen=True)
class Row:
    keys: MessageKeys
    holder: Holder | None  # None: indexed by this source
    chunk_ids: tuple[str, ...] = ()


class KeyTable:
    def __init__(self, db: Db) -> None:
        """`db`: a connection to the manifest's store (`SqlManifest.open_db`)."""
        self.db = db
        with db.tx():
            db.script(PG_SCHEMA if db.dialect == "postgres" else SCHEMA)

    def close(self) -> None:
        self.db.close()

    def match(self, case: str, source: str, keys: MessageKeys) -> Holder | None:
        """The served message of another source this one duplicates (or conflicts with), id key first."""
        order = f"ORDER BY s.updated, k.{self.db.rowid}"  # the oldest served holder, then the first row written
        found: list[tuple[object, ...]] = []
        if keys.id_key is not None:
            found = self.db.rows(
                f"SELECT k.source, k.sha256, k.message_id, k.content FROM msg_keys k {_SERVED} WHERE k.case_id=? "
                f"AND k.key=? AND k.is_id=1 AND k.status='indexed' AND k.source != ? {order}",
                (case, keys.id_key, source))
        if not found and keys.text_keys:
            marks = ",".join("?" * len(keys.text_keys))
            found = self.db.rows(
                f"SELECT k.source, k.sha256, k.message_id, k.content FROM msg_keys k {_SERVED} WHERE k.case_id=? "
                f"AND k.key IN ({marks}) AND k.is_id=0 AND k.status='indexed' AND k.source != ? "
                f"AND (k.has_id=0 OR ?=0) {order}", (case, *keys.text_keys, source, int(keys.has_id)))
        if not found:
            return None
        same = [r for r in found if bytes(r[3]) == keys.content]  # type: ignore[call-overload]
        src, sha, msg, _ = (same or found)[0]
        return Holder(str(src), str(sha), str(msg), bool(same))

    def write(self, case: str, source: str, sha256: str, rows: Iterable[Row], fresh: bool = True) -> None:
        """The rows of a version about to be swapped in (replacing any of a crashed try; `fresh` False: added to
        those written before, one slice at a time), and the todo marks of every holder whose shown provenance this
        version or the one it replaces changes."""
        with self.db.tx():
            if fresh:
                self.db.run("DELETE FROM msg_keys WHERE case_id=? AND source=? AND sha256=?", (case, source, sha256))
            self.db.run("INSERT INTO msg_todo SELECT DISTINCT case_id, holder, holder_sha, holder_msg FROM msg_keys "
                        "WHERE case_id=? AND source=? AND status='merged' ON CONFLICT DO NOTHING", (case, source))
            for row in rows:
                k, h = row.keys, row.holder
                merged = h is not None and h.same
                common = (case, source, sha256, int(k.has_id), k.content, k.message_id,
                          "merged" if merged else "indexed", ",".join(row.chunk_ids),
                          h.source if merged and h else "", h.sha256 if merged and h else "",
                          h.message_id if merged and h else "", "\n".join(k.provenance))
                keyed = [(k.id_key, 1)] if k.id_key is not None else []
                keyed += [(t, 0) for t in k.text_keys]
                self.db.many(
                    "INSERT INTO msg_keys (case_id, source, sha256, key, is_id, has_id, content, message_id, status, "
                    "chunk_ids, holder, holder_sha, holder_msg, provenance) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(*common[:3], key, is_id, *common[3:]) for key, is_id in keyed])
                if merged and h is not None:
                    self.db.run("INSERT INTO msg_todo VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                                (case, h.source, h.sha256, h.message_id))

    def drop_other_versions(self, case: str, source: str, sha256: str) -> None:
        """After `sha256` was swapped in: the rows of the source's replaced version (one source, not the case)."""
        with self.db.tx():
            self.db.run("DELETE FROM msg_keys WHERE case_id=? AND source=? AND sha256!=?", (case, source, sha256))

    def mark_held(self, case: str, source: str, sha256: str) -> None:
        """Every message of this version that others were merged into needs its shown provenance recomputed (its
        chunks were just rewritten, e.g. re-indexed with a translation)."""
        with self.db.tx():
            self.db.run("INSERT INTO msg_todo SELECT DISTINCT case_id, holder, holder_sha, holder_msg FROM msg_keys "
                        "WHERE case_id=? AND holder=? AND holder_sha=? AND status='merged' ON CONFLICT DO NOTHING",
                        (case, source, sha256))

    def prune(self, case: str) -> int:
        """Delete the rows of versions neither served nor in flight (their holders' shown provenance marked for
        recomputing in the same transaction); returns how many."""
        gone = ("case_id=? AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.case_id=msg_keys.case_id AND "
                "s.source=msg_keys.source AND s.sha256=msg_keys.sha256) AND NOT EXISTS (SELECT 1 FROM pending p WHERE "
                "p.case_id=msg_keys.case_id AND p.source=msg_keys.source AND p.sha256=msg_keys.sha256)")
        with self.db.tx():
            self.db.run("INSERT INTO msg_todo SELECT DISTINCT case_id, holder, holder_sha, holder_msg FROM msg_keys "
                        f"WHERE status='merged' AND {gone} ON CONFLICT DO NOTHING", (case,))
            return self.db.run(f"DELETE FROM msg_keys WHERE {gone}", (case,))

    def stale(self, case: str) -> int:
        """Rows of versions neither served nor in flight (what `prune` deletes)."""
        rows = self.db.rows(
            "SELECT COUNT(*) FROM msg_keys k WHERE k.case_id=? AND NOT EXISTS (SELECT 1 FROM sources s WHERE "
            "s.case_id=k.case_id AND s.source=k.source AND s.sha256=k.sha256) AND NOT EXISTS (SELECT 1 FROM "
            "pending p WHERE p.case_id=k.case_id AND p.source=k.source AND p.sha256=k.sha256)", (case,))
        return int(rows[0][0])

    def dangling(self, case: str) -> list[tuple[str, str, str, bytes, bytes]]:
        """(source, sha256, message_id, content, key) of served merged rows whose holder is not served."""
        rows = self.db.rows(
            f"SELECT k.source, k.sha256, k.message_id, k.content, k.key FROM msg_keys k {_SERVED} "
            "WHERE k.case_id=? AND k.status='merged' AND NOT EXISTS (SELECT 1 FROM sources h WHERE h.case_id="
            "k.case_id AND h.source=k.holder AND h.sha256=k.holder_sha)", (case,))
        return [(str(a), str(b), str(c), bytes(d), bytes(e)) for a, b, c, d, e in rows]

    def same_indexed(self, case: str, source: str, key: bytes, content: bytes) -> tuple[str, str, str] | None:
        rows = self.db.rows(
            f"SELECT k.source, k.sha256, k.message_id FROM msg_keys k {_SERVED} WHERE k.case_id=? AND k.key=? "
            "AND k.content=? AND k.status='indexed' AND k.source != ? ORDER BY s.updated LIMIT 1",
            (case, key, content, source))
        return (str(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    def repoint(self, case: str, source: str, sha256: str, message_id: str, holder: tuple[str, str, str]) -> None:
        with self.db.tx():
            self.db.run("UPDATE msg_keys SET holder=?, holder_sha=?, holder_msg=? WHERE case_id=? AND source=? "
                        "AND sha256=? AND message_id=?", (*holder, case, source, sha256, message_id))
            self.db.run("INSERT INTO msg_todo VALUES (?,?,?,?) ON CONFLICT DO NOTHING", (case, *holder))

    def todo(self, case: str) -> list[tuple[str, str, str]]:
        rows = self.db.rows("SELECT source, sha256, message_id FROM msg_todo WHERE case_id=?", (case,))
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def done(self, case: str, items: Sequence[tuple[str, str, str]]) -> None:
        with self.db.tx():
            self.db.many("DELETE FROM msg_todo WHERE case_id=? AND source=? AND sha256=? AND message_id=?",
                         [(case, *item) for item in items])

    def chunks_of(self, case: str, source: str, sha256: str, message_ids: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for msg in set(message_ids):
            for (ids,) in self.db.rows("SELECT DISTINCT chunk_ids FROM msg_keys WHERE case_id=? AND source=? "
                                       "AND sha256=? AND message_id=?", (case, source, sha256, msg)):
                out.update(i for i in str(ids).split(",") if i)
        return out

    def extras(self, case: str, holder: str, sha256: str, message_ids: Iterable[str]) -> dict[str, list[str]]:
        """holder message id -> the provenance of every served source merged into it."""
        out: dict[str, list[str]] = {}
        for msg in set(message_ids):
            rows = self.db.rows(
                f"SELECT DISTINCT k.source, k.provenance FROM msg_keys k {_SERVED} WHERE k.case_id=? AND "
                "k.holder=? AND k.holder_sha=? AND k.holder_msg=? AND k.status='merged' ORDER BY k.source",
                (case, holder, sha256, msg))
            found = [p for _, prov in rows for p in str(prov).split("\n") if p]
            if found:
                out[msg] = list(dict.fromkeys(found))
        return out

    def delete_case(self, case: str) -> None:
        with self.db.tx():
            self.db.run("DELETE FROM msg_keys WHERE case_id=?", (case,))
            self.db.run("DELETE FROM msg_todo WHERE case_id=?", (case,))
