"""A `.zip` holding phone evidence: a WhatsApp "Export chat" with media (the chat `.txt` plus its files) or a
folder of phone databases (e.g. an iLEAPP/ALEAPP test bundle with `ChatStorage.sqlite` and its `-wal`/`-shm`).

Every chat export and every known database inside becomes records of one document, each with provenance
"archive.zip!member". Databases are copied with their sidecars into a private temporary folder and opened there
read-only (the archive is never unpacked next to the evidence). Media files referenced by a chat line are named with
their path inside the archive. A zip with nothing known inside is refused with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from sqlite3 import Connection, DatabaseError

from assistant.loaders.phone import whatsapp_txt
from assistant.loaders.phone.records import PhoneRecord
from assistant.loaders.phone.sqlite_open import KINDS, SQLITE_MAGIC, detect, open_readonly

Reader = Callable[[Connection, str], Iterator[PhoneRecord]]


def archive_records(path: Path, source: str, readers: dict[str, Reader]) -> tuple[list[PhoneRecord], list[str]]:
    records: list[PhoneRecord] = []
    notes: list[str] = []
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        names = {PurePosixPath(m.filename).name: m.filename for m in members}
        for member in members:
            name = member.filename
            if name.lower().endswith(".txt"):
                text = archive.read(member).decode("utf-8-sig", errors="strict")
                if whatsapp_txt.looks_like_export(text[:8000]):
                    thread = PurePosixPath(source).stem
                    found, chat_notes = whatsapp_txt.parse_export(text, thread)
                    records.extend(_in_archive(r, source, name, names) for r in found)
                    notes.extend(f"{name}: {n}" for n in chat_notes)
            elif not name.endswith(("-wal", "-shm", "-journal")):
                with archive.open(member) as handle:
                    if handle.read(16) != SQLITE_MAGIC:
                        continue
                found_db, how = _database(archive, member, names, source, readers)
                records.extend(found_db)
                if how:
                    notes.append(f"{name}: {how}")
    return records, notes


def _in_archive(record: PhoneRecord, source: str, member: str, names: dict[str, str]) -> PhoneRecord:
    from dataclasses import replace

    files = tuple(f"{a} (in the archive: {names[a]})" if a in names else a for a in record.attachments)
    where = tuple(p.replace(f"{record.thread}#", f"{source}!{member}#", 1) for p in record.provenance)
    return replace(record, attachments=files, provenance=where)


def _database(archive: zipfile.ZipFile, member: zipfile.ZipInfo, names: dict[str, str], source: str,
              readers: dict[str, Reader]) -> tuple[list[PhoneRecord], str]:
    base = PurePosixPath(member.filename).name
    with tempfile.TemporaryDirectory(prefix="phone-zip-") as tmp:
        target = Path(tmp) / base
        for name in (base, f"{base}-wal", f"{base}-shm"):
            if name in names:
                with archive.open(names[name]) as src, (Path(tmp) / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        try:
            with open_readonly(target) as (conn, how):
                kind = detect(conn)
                if kind is None:
                    return [], "SQLite database of an unknown app: not read"
                label = f"{source}!{member.filename}"
                return list(readers[kind](conn, label)), f"{KINDS[kind][1]}: {how}"
        except DatabaseError as exc:
            return [], f"unreadable SQLite database ({exc}): not read"
