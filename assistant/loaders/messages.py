"""Seized-phone message exports: CSV or JSONL, one message per row.

Required columns: timestamp, sender, body. Optional: message_id, thread_id, recipient, language, translation, device.
Column names are matched case-insensitively. Rules:
- a missing message_id becomes "m{row}" (1-based data row); duplicate ids get "#2", "#3"… so every id is unique;
- a missing thread_id is derived from the sorted (sender, recipient) pair as "a~b"; when the file has no recipient
  information at all, every row without a thread_id belongs to one thread named after the file;
- day-first timestamps (dd/mm/yyyy hh:mm[:ss]) are rewritten as ISO 8601; other timestamps are kept as written;
- `Document.messages` lists threads in order of first appearance, each thread sorted by timestamp (stable);
- rows with an empty timestamp, sender or body, and unparsable JSONL lines, are skipped and counted in the notes;
- CSV rows are checked one by one (`csv_rows`): a bad row (wrong cell count, swallowed by an unclosed quote, a
  field over the cap) is reported with its row and line number and never merged into another.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import PurePosixPath

from assistant.errors import IngestError
from assistant.loaders.csv_rows import bad_row_notes, read_rows
from assistant.loaders.text import decode_text, encoding_note, normalize_newlines
from assistant.types import Document, Message

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("timestamp", "sender", "body")
OPTIONAL_COLUMNS = ("message_id", "thread_id", "recipient", "language", "translation", "device")
_DELIMITERS = (",", ";", "\t", "|")
_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")

Row = dict[str, str]


def load_messages(data: bytes, source: str, sha256: str, *, jsonl: bool) -> tuple[Document, list[str]]:
    """Load a message export. Raises IngestError naming missing required columns, or when no row is usable."""
    text, encoding = decode_text(data, source)
    if not text.strip():
        raise IngestError(source, "empty file (only whitespace)")
    notes = encoding_note(encoding)
    skipped: Counter[str] = Counter()
    rows, columns = _jsonl_rows(text, skipped) if jsonl else _csv_rows(text, source, notes)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise IngestError(source, f"message export is missing required column(s): {', '.join(missing)} "
                                  f"(found: {', '.join(sorted(columns)) or 'none'}; "
                                  f"required: {', '.join(REQUIRED_COLUMNS)})")
    ignored = sorted(columns - set(REQUIRED_COLUMNS) - set(OPTIONAL_COLUMNS))
    if ignored:
        notes.append(f"ignored column(s): {', '.join(ignored)}")

    has_recipients = any(row.get("recipient", "").strip() for _, row in rows)
    default_thread = PurePosixPath(source).stem or "thread"
    messages: list[Message] = []
    seen_ids: Counter[str] = Counter()
    converted = 0
    for number, row in rows:
        values = {k: normalize_newlines(row.get(k, "")).strip() for k in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
        empty = [c for c in REQUIRED_COLUMNS if not values[c]]
        if empty:
            skipped[f"empty {empty[0]}"] += 1
            continue
        timestamp, was_converted = _normalize_timestamp(values["timestamp"])
        converted += was_converted
        message_id = values["message_id"] or f"m{number}"
        seen_ids[message_id] += 1
        if seen_ids[message_id] > 1:
            skipped["duplicate message_id renamed (kept)"] += 1
            message_id = f"{message_id}#{seen_ids[message_id]}"
        thread_id = values["thread_id"] or _derived_thread(values["sender"], values["recipient"], has_recipients,
                                                           default_thread)
        messages.append(Message(message_id=message_id, thread_id=thread_id, timestamp=timestamp,
                                sender=values["sender"], body=values["body"], recipient=values["recipient"],
                                language=values["language"], translation=values["translation"],
                                device=values["device"]))
    if not messages:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())) or "no data rows"
        raise IngestError(source, f"no usable message rows ({reasons})")
    renamed = skipped.pop("duplicate message_id renamed (kept)", 0)
    if renamed:
        notes.append(f"{renamed} duplicate message_id(s) made unique with a #n suffix")
    if skipped:
        notes.append("skipped rows: " + ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())))
    if converted:
        notes.append(f"{converted} day-first timestamp(s) rewritten as ISO 8601")
    ordered = tuple(_order(messages))
    log.debug("messages loaded rows=%d kept=%d skipped=%d threads=%d", len(rows), len(ordered),
              sum(skipped.values()), len({m.thread_id for m in ordered}))
    return Document(source=source, kind="messages", text="", sha256=sha256, messages=ordered), notes


def _csv_rows(text: str, source: str, notes: list[str]) -> tuple[list[tuple[int, Row]], set[str]]:
    header_line = text.lstrip("\n\r").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=header_line.count)
    read = read_rows(text, delimiter, lambda value: _parse_timestamp(value) is not None)
    if read is None:
        raise IngestError(source, "empty file (no header row)")
    notes.extend(bad_row_notes(read.bad))
    if read.bad:
        log.info("message export bad rows=%d kept=%d", len(read.bad), len(read.rows))
    if not read.rows:
        reason = f" ({len(read.bad)} bad row(s), e.g. {read.bad[0].note()})" if read.bad else ""
        raise IngestError(source, f"message export has a header but no {'usable ' if reason else ''}rows{reason}")
    return read.rows, {n for n in read.names if n}


def _jsonl_rows(text: str, skipped: Counter[str]) -> tuple[list[tuple[int, Row]], set[str]]:
    rows: list[tuple[int, Row]] = []
    columns: set[str] = set()
    number = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        number += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            skipped["invalid JSON lines"] += 1
            continue
        if not isinstance(obj, dict):
            skipped["lines that are not JSON objects"] += 1
            continue
        row = {str(k).strip().lower(): _as_text(v) for k, v in obj.items()}
        columns.update(row)
        rows.append((number, row))
    return rows, columns


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _derived_thread(sender: str, recipient: str, has_recipients: bool, default: str) -> str:
    if not has_recipients:
        return default
    return "~".join(sorted({sender, recipient} - {""}))


def _parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    for fmt in _DAY_FIRST:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _normalize_timestamp(value: str) -> tuple[str, bool]:
    """ISO timestamps are kept verbatim; recognised day-first ones are rewritten as ISO 8601."""
    try:
        datetime.fromisoformat(value)
        return value, False
    except ValueError:
        parsed = _parse_timestamp(value)
    return (parsed.isoformat(), True) if parsed is not None else (value, False)


def _sort_key(message: Message) -> tuple[int, float, str]:
    parsed = _parse_timestamp(message.timestamp)
    if parsed is None:
        return (1, 0.0, message.timestamp)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (0, parsed.timestamp(), "")


def _order(messages: Iterable[Message]) -> list[Message]:
    threads: dict[str, list[Message]] = {}
    for message in messages:
        threads.setdefault(message.thread_id, []).append(message)
    return [m for thread in threads.values() for m in sorted(thread, key=_sort_key)]
