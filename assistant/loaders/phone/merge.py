"""Duplicates across sources merged once, with every provenance kept; a file's records kept on disk, not in memory.

Two records are the same message when they carry the same app message id for the same app (a UFDR and the raw
msgstore.db of the same phone), or, for text exports that have no ids, the same sender, minute and body (the same
chat exported twice, or from both phones). The first record read is kept; the others only add their provenance.

`MergedRecords` does that merge in a private on-disk SQLite database (deleted when closed) and hands the records
back thread by thread (threads in the order first seen, each sorted by timestamp, ties in the order read), so a
1 GB Cellebrite report costs the parse worker the database's page cache, not a million records in memory
(benchmarks/bench_ingest_memory.py, docs/scale.md). Same records, order and counts as `merge_duplicates` followed
by a stable sort per thread (tests/test_phone_spill.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import fields
from typing import Any

from assistant.loaders.phone.records import PhoneRecord

_SCHEMA = ("CREATE TABLE rec (seq INTEGER PRIMARY KEY, thread INTEGER NOT NULL, ts BLOB NOT NULL, mid BLOB NOT NULL,"
           " key BLOB UNIQUE, data TEXT NOT NULL)")


def duplicate_key(record: PhoneRecord) -> tuple[str, ...] | None:
    if record.kind not in ("message", "system"):
        return None
    app = record.source_app.strip().lower()
    if record.app_id:
        return ("id", app, record.app_id)
    if record.timestamp and (record.body or record.attachments):
        minute = record.timestamp[:16]
        return ("text", app, record.sender.strip().lower(), minute, " ".join(record.body.split()),
                "|".join(record.attachments))
    return None


def merge_duplicates(records: Iterable[PhoneRecord]) -> tuple[list[PhoneRecord], int]:
    """(records in first-seen order with duplicates folded in, number of duplicates merged)."""
    kept: list[PhoneRecord] = []
    index: dict[tuple[str, ...], int] = {}
    merged = 0
    for record in records:
        key = duplicate_key(record)
        if key is None:
            kept.append(record)
            continue
        at = index.get(key)
        if at is None:
            index[key] = len(kept)
            kept.append(record)
        else:
            kept[at] = kept[at].with_provenance(*record.provenance)
            merged += 1
    return kept, merged


_FIELDS = tuple(f.name for f in fields(PhoneRecord))


def _pack(record: PhoneRecord) -> str:
    """A record as a JSON list of its field values (`dataclasses.asdict` costs a deep copy per record)."""
    return json.dumps([getattr(record, name) for name in _FIELDS])


def _unpack(data: str) -> PhoneRecord:
    values: list[Any] = [tuple(v) if isinstance(v, list) else v for v in json.loads(data)]
    return PhoneRecord(*values)


def _digest(key: tuple[str, ...] | None) -> bytes | None:
    """The key's SHA-1 (20 bytes, not the whole text in the unique index); None when the record has no key."""
    return None if key is None else hashlib.sha1(json.dumps(key).encode("utf-8", "surrogatepass")).digest()


def _bytes(text: str) -> bytes:
    """Sort key bytes: UTF-8 orders as Python orders str (by code point), lone surrogates included."""
    return text.encode("utf-8", "surrogatepass")


class MergedRecords:
    """`add` records (duplicates merged as `merge_duplicates` does), then iterate them thread by thread, each thread
    by timestamp; `kinds`, `deleted` and `duplicates` count what was kept. `close` deletes the database."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private temporary on-disk database, deleted on close
        self._db.execute("PRAGMA journal_mode = OFF")  # a scratch copy: nothing to roll back to after a crash
        self._db.execute(_SCHEMA)
        self._threads: dict[str, int] = {}  # thread -> order first seen (one entry per thread, not per record)
        self.kinds: Counter[str] = Counter()
        self.deleted = 0
        self.duplicates = 0
        self.count = 0

    def add(self, records: Iterable[PhoneRecord]) -> None:
        db = self._db
        with db:
            for record in records:
                key = _digest(duplicate_key(record))
                text = _pack(record)
                thread = self._threads.get(record.thread, len(self._threads))  # seen through kept records only
                mid = _bytes(record.app_id or record.record_id)
                added = db.execute("INSERT INTO rec (thread, ts, mid, key, data) VALUES (?, ?, ?, ?, ?) "
                                   "ON CONFLICT(key) DO NOTHING",
                                   (thread, _bytes(record.timestamp), mid, key, text)).rowcount
                if added:
                    self._threads.setdefault(record.thread, thread)
                    self.count += 1
                    self.kinds[record.kind] += 1
                    self.deleted += record.deleted
                    continue
                row = db.execute("SELECT seq, data FROM rec WHERE key = ?", (key,)).fetchone()
                kept = _unpack(row[1]).with_provenance(*record.provenance)
                db.execute("UPDATE rec SET data = ? WHERE seq = ?", (_pack(kept), row[0]))
                self.duplicates += 1

    def duplicate_ids(self) -> set[str]:
        """Message ids (the app's id, else the record id) that more than one kept record carries."""
        rows = self._db.execute("SELECT mid FROM rec GROUP BY mid HAVING COUNT(*) > 1")
        return {bytes(mid).decode("utf-8", "surrogatepass") for (mid,) in rows}

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[PhoneRecord]:
        rows = self._db.execute("SELECT data FROM rec ORDER BY thread, ts, seq")
        for (data,) in rows:
            yield _unpack(data)

    def close(self) -> None:
        self._db.close()
