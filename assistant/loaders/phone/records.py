"""The record every seized-phone loader produces: one message, system line, call, contact, account or device fact.

`PhoneRecord` is frozen and has a single dict codec (`to_dict` / `from_dict`), so it can later be folded into the
typed message record of `assistant/text/`. `to_message` turns it into the `Message` the chunker already knows: the
text a reviewer and the retriever see says what the record is (a call, a contact, a deleted message), and the full
record rides along as JSON in `Message.phone` so the UI can show device, extraction and provenance.

Timestamps: `timestamp` is ISO 8601. When the source states a zone or offset it is converted to UTC
(`...+00:00`) and `tz` keeps what the source said (e.g. "source offset -03:00", "UTC"); when it does not (WhatsApp
text exports, old Telegram exports) the local wall-clock time is kept without offset and `tz` is
"local, zone unknown".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from assistant.types import Message

RecordKind = Literal["message", "system", "call", "contact", "account", "device"]
KINDS: tuple[str, ...] = ("message", "system", "call", "contact", "account", "device")
LOCAL_UNKNOWN = "local, zone unknown"
DELETED_PREFIX = "[DELETED message, recovered from the extraction] "


@dataclass(frozen=True)
class PhoneRecord:
    kind: RecordKind
    record_id: str  # unique within its file: the app's id when it has one, else a stable derived id
    thread: str
    timestamp: str
    body: str
    sender: str = ""
    recipients: tuple[str, ...] = ()
    tz: str = ""
    app_id: str = ""  # the app's own message key (WhatsApp key_id, iMessage guid, Telegram id, UFDR Identifier)
    deleted: bool = False
    direction: str = ""  # "incoming" | "outgoing" | "missed" | ""
    source_app: str = ""
    device: str = ""
    extraction: str = ""
    attachments: tuple[str, ...] = ()
    provenance: tuple[str, ...] = ()  # "file#locator" of every source this record was read from

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recipients"] = list(self.recipients)
        data["attachments"] = list(self.attachments)
        data["provenance"] = list(self.provenance)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhoneRecord:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        for key in ("recipients", "attachments", "provenance"):
            values[key] = tuple(str(v) for v in values.get(key) or ())
        if values.get("kind") not in KINDS:
            raise ValueError(f"unknown record kind {values.get('kind')!r}")
        values["deleted"] = bool(values.get("deleted", False))
        return cls(**values)

    def with_provenance(self, *more: str) -> PhoneRecord:
        merged = tuple(dict.fromkeys((*self.provenance, *more)))
        return replace(self, provenance=merged)


def display_text(record: PhoneRecord) -> str:
    """What a reviewer and the retriever read for this record: deletion and attachments are said in words."""
    text = record.body.strip()
    if record.attachments:
        listed = "; ".join(record.attachments)
        text = f"{text} [attachment: {listed}]" if text else f"[attachment: {listed}]"
    if record.deleted and record.kind in ("message", "system"):
        text = DELETED_PREFIX + text
    return text or "(empty message)"


def to_message(record: PhoneRecord) -> Message:
    """The chunker's `Message` for a record; `phone` holds the record's JSON (see `record_of`)."""
    return Message(message_id=record.app_id or record.record_id, thread_id=record.thread or "unknown thread",
                   timestamp=record.timestamp, sender=record.sender or record.source_app or "unknown",
                   body=display_text(record), recipient=", ".join(record.recipients), device=record.device,
                   phone=json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True))


def record_of(phone_json: object) -> PhoneRecord | None:
    """The record carried by a chunk's message entry (`Message.phone`), None when absent or unreadable."""
    if not isinstance(phone_json, str) or not phone_json:
        return None
    try:
        data = json.loads(phone_json)
        return PhoneRecord.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


# ---------------------------------------------------------------- time helpers shared by the loaders


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC, seconds precision; a naive datetime must not be passed here."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def offset_note(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return LOCAL_UNKNOWN
    if offset == timedelta(0):
        return "UTC"
    total = int(offset.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    return f"source offset {sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def from_iso(value: str) -> tuple[str, str]:
    """(timestamp, tz) from an ISO string: UTC when it has an offset, kept local when it has none; ("", "")
    when it cannot be read."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return "", ""
    if moment.tzinfo is None:
        return moment.replace(microsecond=0).isoformat(), LOCAL_UNKNOWN
    return utc_iso(moment), offset_note(moment)


def from_epoch(seconds: float) -> str:
    return utc_iso(datetime.fromtimestamp(seconds, tz=UTC))


_COCOA_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


def from_cocoa(value: float) -> str:
    """Apple Cocoa time: seconds since 2001-01-01 UTC, or nanoseconds when above 1e15 (newer iOS)."""
    seconds = value / 1e9 if abs(value) > 1e15 else value
    return utc_iso(_COCOA_EPOCH + timedelta(seconds=seconds))


def human_utc(timestamp: str) -> str:
    """'15/03/2024 10:12 UTC' (or '... local time' without a zone) for sentences about calls and contacts."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp or "time unknown"
    zone = "UTC" if moment.tzinfo is not None else "local time"
    return f"{moment:%d/%m/%Y %H:%M} {zone}"


def human_duration(seconds: int) -> str:
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)
