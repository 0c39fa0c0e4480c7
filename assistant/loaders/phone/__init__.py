"""Seized-phone evidence: WhatsApp text exports, Telegram Desktop JSON, Cellebrite UFDR / PA XML, phone databases
(iOS sms.db and WhatsApp ChatStorage.sqlite; Android mmssms.db, msgstore.db, wa.db, calllog.db) and zips of them.

Each format has its own module yielding `PhoneRecord`s; this module picks the format (by suffix, then by content),
merges duplicates, and builds the `Document` of messages the chunker already knows, with notes that say per file
what was read (messages, calls, contacts, ...) and what was assumed (day/month order, local times).

Records are merged and ordered on disk (`merge.MergedRecords`), not in memory: `stream_document` / `stream_path`
give the document without its messages plus a `PhoneMessages` stream that reads them back one at a time (the parse
worker sends them frame by frame, so a 1 GB report does not cost the worker its size in memory);
`build_document` / `load_path` materialize the same messages into the Document for in-process callers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from assistant.errors import IngestError
from assistant.loaders.phone import telegram_json, whatsapp_txt
from assistant.loaders.phone.merge import MergedRecords
from assistant.loaders.phone.records import PhoneRecord, to_message
from assistant.types import Document, Message

log = logging.getLogger(__name__)

PATH_SUFFIXES = frozenset({".ufdr", ".xml", ".db", ".sqlite", ".sqlite3", ".zip"})
SUFFIXES = PATH_SUFFIXES | {".json"}
_LABELS = {"message": "message(s)", "call": "call(s)", "contact": "contact(s)", "account": "account(s)",
           "system": "system line(s)", "device": "device record(s)"}


def is_whatsapp_text(text: str) -> bool:
    return whatsapp_txt.looks_like_export(text[:8000])


def load_text_or_chat(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """A .txt file: a WhatsApp chat export when its first lines are chat headers, else plain text."""
    from assistant.loaders.text import decode_text, load_text

    text, _ = decode_text(data, source)
    if is_whatsapp_text(text.lstrip("\ufeff")):
        return load_whatsapp_text(text.lstrip("\ufeff"), source, sha256)
    return load_text(data, source, sha256)


def load_whatsapp_text(text: str, source: str, sha256: str) -> tuple[Document, list[str]]:
    thread = PurePosixPath(source).stem
    records, notes = whatsapp_txt.parse_export(text, thread)
    return build_document(records, source, sha256, notes)


def load_telegram(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    try:
        records, notes = telegram_json.parse_export(data, source)
    except UnicodeDecodeError as exc:
        raise IngestError(source, f"JSON is not UTF-8 (invalid byte at offset {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise IngestError(source, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except ValueError as exc:
        raise IngestError(source, str(exc)) from exc
    return build_document(records, source, sha256, notes)


def load_telegram_html(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """A Telegram Desktop HTML chat page; any other HTML is refused (web pages are not evidence formats we read)."""
    from assistant.loaders.phone import telegram_html

    try:
        html = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(source, f"HTML is not UTF-8 (invalid byte at offset {exc.start})") from exc
    if not telegram_html.looks_like_export(html[:20000]):
        raise IngestError(source, "HTML file that is not a Telegram Desktop chat export: not read (export web pages "
                                  "as PDF or text to ingest them)")
    records, notes = telegram_html.parse_export(html, source)
    return build_document(records, source, sha256, notes)


def load_path(path: Path, source: str, sha256: str) -> tuple[Document, list[str]]:
    """A UFDR / PA XML report, a phone database or a zip of phone evidence, read from the path (never loaded whole
    into memory)."""
    return materialize(stream_path(path, source, sha256))


def stream_path(path: Path, source: str, sha256: str) -> Streamed:
    """Like `load_path`, with the messages handed over one at a time from disk (the parse worker's form)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _load_archive(path, source, sha256)
    if suffix in (".ufdr", ".xml"):
        return _load_report(path, source, sha256)
    return _load_database(path, source, sha256)


def _load_archive(path: Path, source: str, sha256: str) -> Streamed:
    import zipfile

    from assistant.loaders.phone.archive import archive_records

    try:
        records, notes = archive_records(path, source, _readers())
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(source, f"unreadable zip ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(source, f"a chat .txt in the zip is not UTF-8 (byte offset {exc.start})") from exc
    if not records:
        raise IngestError(source, "zip holds no WhatsApp chat export and no known phone database (unzip it and "
                                  "ingest the folder to read other files)")
    return stream_document(drain(records), source, sha256, notes)


def _load_report(path: Path, source: str, sha256: str) -> Streamed:
    from assistant.loaders.phone.ufdr import ReportReader, open_report

    reader = ReportReader(source)
    spill = MergedRecords()  # each record goes to disk as soon as its model ends: memory does not grow with the report
    try:
        with open_report(path) as stream:
            spill.add(reader.records(stream))
    except ET.ParseError as exc:
        spill.close()
        raise IngestError(source, f"not well-formed XML ({exc}); is it a complete Cellebrite report?") from exc
    except (ValueError, OSError) as exc:
        spill.close()
        raise IngestError(source, str(exc)) from exc
    except BaseException:
        spill.close()
        raise
    if not len(spill):  # a report with device facts always yields the device record
        spill.close()
        raise IngestError(source, "no Cellebrite model (message, call, contact, account) found in this XML")
    notes = [f"Cellebrite report: device {reader.device or 'not stated'}"]
    if reader.embedded:
        notes.append(f"{reader.embedded} forwarded/quoted message(s) shown inside the message that holds them")
    if reader.not_read:
        notes.append("not read (no loader for these models yet): " + ", ".join(
            f"{n} {kind}" for kind, n in reader.not_read.most_common()))
    return stream_document(spill, source, sha256, notes)


def drain(items: list[PhoneRecord]) -> Iterator[PhoneRecord]:
    """The records in order, each let go by the list as it is taken (a report's list would keep them all alive)."""
    items.reverse()
    while items:
        yield items.pop()


def _load_database(path: Path, source: str, sha256: str) -> Streamed:
    from assistant.loaders.phone.sqlite_open import KINDS, SQLITE_MAGIC, detect, open_readonly

    with path.open("rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise IngestError(source, "not an SQLite database (wrong file header)")
    readers = _readers()
    spill = MergedRecords()
    try:
        with open_readonly(path) as (conn, how):
            kind = detect(conn)
            if kind is None:
                spill.close()
                raise IngestError(source, "SQLite database of an unknown app (no known phone message, call or "
                                          "contact tables)")
            spill.add(readers[kind](conn, source))
    except sqlite3.DatabaseError as exc:
        spill.close()
        raise IngestError(source, f"unreadable SQLite database: {exc}") from exc
    except BaseException:
        spill.close()
        raise
    return stream_document(spill, source, sha256, [f"{KINDS[kind][1]}: {how}"])


def _readers() -> dict[str, Any]:
    from assistant.loaders.phone import sqlite_android as android
    from assistant.loaders.phone import sqlite_ios as ios

    return {"ios_sms": ios.ios_sms_records, "ios_whatsapp": ios.ios_whatsapp_records,
            "android_whatsapp": android.android_whatsapp_records,
            "android_whatsapp_legacy": android.android_whatsapp_records,
            "android_sms": android.android_sms_records, "android_wa_contacts": android.wa_contact_records,
            "android_calls": android.call_log_records}


def build_document(records: Iterable[PhoneRecord], source: str, sha256: str,
                   notes: list[str]) -> tuple[Document, list[str]]:
    """The whole Document (in this process: tests, the in-process loaders); the parse worker sends the messages of
    `stream_document` frame by frame instead, never holding them all."""
    return materialize(stream_document(records, source, sha256, notes))


def materialize(streamed: Streamed) -> tuple[Document, list[str]]:
    doc, notes, messages = streamed
    try:
        return replace(doc, messages=tuple(messages)), notes
    finally:
        messages.close()


class PhoneMessages:
    """A file's messages read back from its `MergedRecords` one at a time, in document order, with message ids
    made unique inside the document (a second "17" becomes "17#2", as citations need). len() is known up front."""

    def __init__(self, spill: MergedRecords) -> None:
        self._spill = spill

    def __len__(self) -> int:
        return len(self._spill)

    def __iter__(self) -> Iterator[Message]:
        repeated = self._spill.duplicate_ids()
        seen: Counter[str] = Counter()
        for record in self._spill:
            message = to_message(record)
            if message.message_id in repeated:
                seen[message.message_id] += 1
                message = replace(message, message_id=f"{message.message_id}#{seen[message.message_id]}")
            yield message

    def close(self) -> None:
        self._spill.close()


Streamed = tuple[Document, list[str], PhoneMessages]  # the document without its messages, notes, its messages


def stream_document(records: Iterable[PhoneRecord] | MergedRecords, source: str, sha256: str,
                    notes: list[str]) -> Streamed:
    """Merge the records on disk (`merge.MergedRecords`); the document (without its messages), the notes (what was
    read first) and the messages, thread by thread, each thread by timestamp."""
    spill = records if isinstance(records, MergedRecords) else _spilled(records)
    if not len(spill):
        spill.close()
        raise IngestError(source, "no messages, calls or contacts found")
    kinds = spill.kinds
    read = ", ".join(f"{kinds[k]} {label}" for k, label in _LABELS.items() if kinds[k])
    summary = f"read {read}" + (f"; {spill.deleted} deleted" if spill.deleted else "")
    if spill.duplicates:
        summary += f"; {spill.duplicates} duplicate(s) merged (provenance kept)"
    log.debug("phone records source_sha=%s records=%d duplicates=%d", sha256[:12], len(spill), spill.duplicates)
    doc = Document(source=source, kind="messages", text="", sha256=sha256)
    return doc, [summary, *notes], PhoneMessages(spill)


def _spilled(records: Iterable[PhoneRecord]) -> MergedRecords:
    spill = MergedRecords()
    try:
        spill.add(records)
    except BaseException:
        spill.close()
        raise
    return spill
