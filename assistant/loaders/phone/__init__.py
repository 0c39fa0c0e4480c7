"""Seized-phone evidence: WhatsApp text exports, Telegram Desktop JSON, Cellebrite UFDR / PA XML, phone databases
(iOS sms.db and WhatsApp ChatStorage.sqlite; Android mmssms.db, msgstore.db, wa.db, calllog.db) and zips of them.

Each format has its own module yielding `PhoneRecord`s; this module picks the format (by suffix, then by content),
merges duplicates, and builds the `Document` of messages the chunker already knows, with notes that say per file
what was read (messages, calls, contacts, ...) and what was assumed (day/month order, local times).
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
from assistant.loaders.phone.merge import merge_duplicates
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
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _load_archive(path, source, sha256)
    if suffix in (".ufdr", ".xml"):
        return _load_report(path, source, sha256)
    return _load_database(path, source, sha256)


def _load_archive(path: Path, source: str, sha256: str) -> tuple[Document, list[str]]:
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
    return build_document(records, source, sha256, notes)


def _load_report(path: Path, source: str, sha256: str) -> tuple[Document, list[str]]:
    from assistant.loaders.phone.ufdr import ReportReader, open_report

    reader = ReportReader(source)
    try:
        with open_report(path) as stream:
            records = list(reader.records(stream))
    except ET.ParseError as exc:
        raise IngestError(source, f"not well-formed XML ({exc}); is it a complete Cellebrite report?") from exc
    except (ValueError, OSError) as exc:
        raise IngestError(source, str(exc)) from exc
    if not records and not reader.device_facts:
        raise IngestError(source, "no Cellebrite model (message, call, contact, account) found in this XML")
    notes = [f"Cellebrite report: device {reader.device or 'not stated'}"]
    if reader.embedded:
        notes.append(f"{reader.embedded} forwarded/quoted message(s) shown inside the message that holds them")
    if reader.not_read:
        notes.append("not read (no loader for these models yet): " + ", ".join(
            f"{n} {kind}" for kind, n in reader.not_read.most_common()))
    return build_document(drain(records), source, sha256, notes)


def drain(items: list[PhoneRecord]) -> Iterator[PhoneRecord]:
    """The records in order, each let go by the list as it is taken (a report's list would keep them all alive)."""
    items.reverse()
    while items:
        yield items.pop()


def _load_database(path: Path, source: str, sha256: str) -> tuple[Document, list[str]]:
    from assistant.loaders.phone.sqlite_open import KINDS, SQLITE_MAGIC, detect, open_readonly

    with path.open("rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise IngestError(source, "not an SQLite database (wrong file header)")
    readers = _readers()
    try:
        with open_readonly(path) as (conn, how):
            kind = detect(conn)
            if kind is None:
                raise IngestError(source, "SQLite database of an unknown app (no known phone message, call or "
                                          "contact tables)")
            records = list(readers[kind](conn, source))
    except sqlite3.DatabaseError as exc:
        raise IngestError(source, f"unreadable SQLite database: {exc}") from exc
    return build_document(drain(records), source, sha256, [f"{KINDS[kind][1]}: {how}"])


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
    merged, duplicates = merge_duplicates(records)
    if not merged:
        raise IngestError(source, "no messages, calls or contacts found")
    kinds: Counter[str] = Counter(r.kind for r in merged)
    deleted = sum(1 for r in merged if r.deleted)
    threads: dict[str, list[PhoneRecord]] = {}
    for record in merged:
        threads.setdefault(record.thread, []).append(record)
    merged.clear()
    converted: list[Message] = []
    for thread in list(threads):  # each thread's records freed once converted: never all records and all messages
        converted.extend(to_message(r) for r in sorted(threads.pop(thread), key=lambda r: r.timestamp))
    messages = tuple(converted)
    del converted
    ids = Counter(m.message_id for m in messages)
    if any(n > 1 for n in ids.values()):  # ids must be unique inside a document for citations
        seen: Counter[str] = Counter()
        fixed = []
        for m in messages:
            seen[m.message_id] += 1
            unique = m.message_id if ids[m.message_id] == 1 else f"{m.message_id}#{seen[m.message_id]}"
            fixed.append(replace(m, message_id=unique))
        messages = tuple(fixed)
    read = ", ".join(f"{kinds[k]} {label}" for k, label in _LABELS.items() if kinds[k])
    summary = f"read {read}" + (f"; {deleted} deleted" if deleted else "")
    if duplicates:
        summary += f"; {duplicates} duplicate(s) merged (provenance kept)"
    log.debug("phone records source_sha=%s records=%d duplicates=%d", sha256[:12], len(messages), duplicates)
    return Document(source=source, kind="messages", text="", sha256=sha256, messages=messages), [summary, *notes]
