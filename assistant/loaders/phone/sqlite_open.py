"""Opening a phone database without ever changing it, and telling which app's database it is.

The evidence file is opened with `file:...?mode=ro&immutable=1`: SQLite then takes no lock, writes no journal and
does not replay a write-ahead log. A database whose `-wal` sidecar is non-empty would lose the WAL's rows that way,
so then the database and its sidecar are copied into a private temporary folder and the copy is opened read-only
(SQLite replays the WAL into the copy, never into the evidence). Both are reported in the notes.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

KINDS = {
    "ios_sms": ({"message", "handle"}, "iOS Messages (sms.db / chat.db)"),
    "ios_whatsapp": ({"ZWAMESSAGE", "ZWACHATSESSION"}, "WhatsApp iOS (ChatStorage.sqlite)"),
    "android_whatsapp": ({"message", "chat", "jid"}, "WhatsApp Android (msgstore.db)"),
    "android_whatsapp_legacy": ({"messages"}, "WhatsApp Android, legacy schema (msgstore.db)"),
    "android_sms": ({"sms"}, "Android SMS/MMS (mmssms.db)"),
    "android_wa_contacts": ({"wa_contacts"}, "WhatsApp Android contacts (wa.db)"),
    "android_calls": ({"calls"}, "Android call log (calllog.db)"),
}
SQLITE_MAGIC = b"SQLite format 3\x00"


def _uri(path: Path, immutable: bool) -> str:
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return f"file:{quote(str(path.resolve()))}?{flags}"


@contextmanager
def open_readonly(path: Path) -> Iterator[tuple[sqlite3.Connection, str]]:
    """(connection, how it was opened). Raises sqlite3.DatabaseError for a file that is not a database."""
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        with tempfile.TemporaryDirectory(prefix="phone-db-") as tmp:
            copy = Path(tmp) / path.name
            shutil.copyfile(path, copy)
            shutil.copyfile(wal, Path(tmp) / wal.name)
            conn = sqlite3.connect(_uri(copy, immutable=False), uri=True)
            try:
                yield conn, f"write-ahead log of {wal.stat().st_size} bytes replayed on a private copy"
            finally:
                conn.close()
        return
    conn = sqlite3.connect(_uri(path, immutable=True), uri=True)
    try:
        yield conn, "opened read-only and immutable"
    finally:
        conn.close()


def tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}


def detect(conn: sqlite3.Connection) -> str | None:
    """Which known phone database this is, by its tables (the most specific schema first)."""
    found = tables(conn)
    for kind in (*KINDS,):
        needed, _ = KINDS[kind]
        if needed <= found:
            if kind == "ios_sms" and "guid" not in columns(conn, "message"):
                continue
            if kind == "android_whatsapp" and "key_id" not in columns(conn, "message"):
                continue
            if kind == "android_calls" and not {"number", "duration"} <= columns(conn, "calls"):
                continue
            return kind
    return None
