"""Machine translations beside the originals: one SQLite file under index_dir, a row per (case, source, message id,
sha256 of the original body), with model, prompt version, time and the label "machine translation, not verified".
The original is never changed (it stays in the index as loaded) and a human translation is never replaced
(`attach` only fills messages whose `translation` is empty). A row whose original hash no longer matches (the source
was re-ingested with a different body) is not used. `document_from_chunks` rebuilds a message source from its stored
chunks, so a translated source is re-chunked and re-embedded without reading the file again."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.perms import private_file
from assistant.text.messages import MessageRecord, message_records
from assistant.types import Document, Message

LABEL = "machine translation, not verified"
FILE = "translations.sqlite"  # under index_dir

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS machine_translations (
    case_id TEXT NOT NULL, source TEXT NOT NULL, message_id TEXT NOT NULL, original_sha256 TEXT NOT NULL,
    language TEXT NOT NULL, translation TEXT NOT NULL, model TEXT NOT NULL, prompt_version TEXT NOT NULL,
    created REAL NOT NULL, label TEXT NOT NULL,
    PRIMARY KEY (case_id, source, message_id, original_sha256)
) WITHOUT ROWID;
"""


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MachineTranslation:
    case: str
    source: str
    message_id: str
    original_sha256: str
    language: str
    translation: str
    model: str
    prompt_version: str
    created: float
    label: str = LABEL

    @property
    def provenance(self) -> str:
        """One line for the UI, the CLI and the chunk metadata: label, model, prompt version, UTC time."""
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.created))
        return f"{self.label} ({self.model}, {self.prompt_version}, {when})"


class TranslationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
        private_file(path)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def put(self, item: MachineTranslation) -> None:
        """Store one translation; an existing row for the same original is kept (first translation wins, so a
        resumed run never silently swaps text an investigator may have read)."""
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO machine_translations VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (item.case, item.source, item.message_id, item.original_sha256, item.language,
                        item.translation, item.model, item.prompt_version, item.created, item.label))

    def for_source(self, case: str, source: str) -> dict[tuple[str, str], MachineTranslation]:
        """(message id, original sha256) -> translation, for every stored translation of the source."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM machine_translations WHERE case_id=? AND source=?",
                              (case, source)).fetchall()
        return {(r[2], r[3]): MachineTranslation(*r) for r in rows}

    def count(self, case: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT COUNT(*) FROM machine_translations WHERE case_id=?", (case,)).fetchone()
        return int(row[0])

    def delete_case(self, case: str) -> int:
        with self._lock, self._connect() as db:
            return db.execute("DELETE FROM machine_translations WHERE case_id=?", (case,)).rowcount

    def delete_sources(self, case: str, sources: Iterable[str]) -> None:
        with self._lock, self._connect() as db:
            db.executemany("DELETE FROM machine_translations WHERE case_id=? AND source=?",
                           [(case, s) for s in sources])


def attach(doc: Document, found: Mapping[tuple[str, str], MachineTranslation]) -> tuple[Document, int]:
    """`doc` with stored machine translations on its untranslated messages, and how many were attached. A human
    translation (the export's own `translation`) is never replaced; the body is never changed."""
    if not found or not doc.messages:
        return doc, 0
    messages: list[Message] = []
    attached = 0
    for m in doc.messages:
        hit = None if m.translation.strip() else found.get((m.message_id, body_hash(m.body)))
        if hit is not None:
            m = replace(m, translation=hit.translation, machine=hit.provenance)
            attached += 1
        messages.append(m)
    return replace(doc, messages=tuple(messages)), attached


def _message(r: MessageRecord) -> Message:
    human = "" if r.machine else r.translation  # a machine translation is re-attached from the store, never kept
    return Message(message_id=r.message_id, thread_id=r.thread_id, timestamp=r.timestamp, sender=r.sender,
                   body=r.body, recipient=r.recipient, language=r.language, translation=human, device=r.device,
                   phone=r.phone)


def document_from_chunks(source: str, sha256: str, metas: Iterable[Mapping[str, object]]) -> Document | None:
    """The message document a source was chunked from, rebuilt from its chunks' message records (ordered by their
    index in the source; split and overlapping windows repeat a message, kept once). None when a chunk holds no
    message records (prose, or an index entry too damaged to rebuild from)."""
    by_index: dict[int, MessageRecord] = {}
    for meta in metas:
        records = message_records(meta)
        if not records:
            return None
        for r in records:
            if r.index < 0:
                return None
            if r.index in by_index and r.part:  # later parts of a split message carry the same whole body
                continue
            by_index.setdefault(r.index, r)
    if not by_index:
        return None
    messages = tuple(_message(by_index[i]) for i in sorted(by_index))
    return Document(source=source, kind="messages", text="", sha256=sha256, messages=messages)
