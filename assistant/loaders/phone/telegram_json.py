"""Telegram Desktop `result.json`: a single-chat export ({name, type, id, messages}) or a full-account export
({personal_information, contacts, chats: {list: [...]}, left_chats, ...}).

`text` is a string or a list of strings and {type, text} parts; the parts are joined as written. Times come from
`date_unixtime` (UTC) when present; older exports only have `date`, the exporting PC's local time without offset,
kept as "local, zone unknown". Direction is known only in a full export (`from_id == "user" + own user_id`).
Contacts of a full export become contact records. Service messages (calls, joins, pins) are system records.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from assistant.loaders.phone.records import PhoneRecord, RecordKind, from_epoch, from_iso, human_duration, human_utc


def looks_like_export(data: object) -> bool:
    if not isinstance(data, dict):
        return False
    chats = data.get("chats")
    return isinstance(data.get("messages"), list) or (isinstance(chats, dict) and isinstance(chats.get("list"), list))


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict)
                       else "" for part in value)
    return ""


def _when(message: dict[str, Any]) -> tuple[str, str]:
    unix = message.get("date_unixtime")
    if unix not in (None, ""):
        try:
            return from_epoch(float(str(unix))), "UTC"
        except ValueError:
            pass
    return from_iso(str(message.get("date", "")))


def _media(message: dict[str, Any]) -> tuple[str, ...]:
    found = []
    for key in ("photo", "file"):
        value = message.get(key)
        if isinstance(value, str) and value:
            kind = str(message.get("media_type") or key)
            found.append(f"{kind}: {value}")
    return tuple(found)


def _service_text(message: dict[str, Any]) -> str:
    action = str(message.get("action", "service"))
    actor = str(message.get("actor") or "")
    if action == "phone_call":
        seconds = message.get("duration_seconds")
        lasted = f", lasted {human_duration(int(seconds))}" if isinstance(seconds, int) else ""
        reason = f" ({message['discard_reason']})" if message.get("discard_reason") else ""
        return f"Telegram call from {actor or 'unknown'}{reason}, {human_utc(_when(message)[0])}{lasted}"
    members = message.get("members")
    listed = f": {', '.join(str(m) for m in members)}" if isinstance(members, list) and members else ""
    return f"{actor} {action.replace('_', ' ')}{listed}".strip()


def _chat_records(chat: dict[str, Any], source: str, owner_id: str, n_chat: int) -> Iterator[PhoneRecord]:
    name = str(chat.get("name") or "")
    chat_id = str(chat.get("id") or "")
    thread = f"{name or 'chat'} ({chat_id})" if chat_id else (name or f"chat {n_chat}")
    for n, message in enumerate(chat.get("messages") or [], start=1):
        if not isinstance(message, dict):
            continue
        timestamp, tz = _when(message)
        msg_id = str(message.get("id", ""))
        record_id = f"{chat_id or n_chat}:{msg_id or n}"
        service = message.get("type") == "service"
        sender = str(message.get("from") or message.get("actor") or message.get("from_id") or "")
        from_id = str(message.get("from_id") or message.get("actor_id") or "")
        direction = "" if not owner_id else "outgoing" if from_id == f"user{owner_id}" else "incoming"
        kind: RecordKind = ("call" if message.get("action") == "phone_call" else "system") if service else "message"
        yield PhoneRecord(
            kind=kind, record_id=record_id, thread=thread, timestamp=timestamp, tz=tz,
            body=_service_text(message) if service else _text(message.get("text")), sender=sender,
            app_id=record_id if msg_id else "", direction=direction, source_app="Telegram",
            attachments=_media(message), provenance=(f"{source}#chat {chat_id or n_chat} message {msg_id or n}",))


def _contact_records(contacts: object, source: str) -> Iterator[PhoneRecord]:
    items = contacts.get("list") if isinstance(contacts, dict) else None
    for n, contact in enumerate(items or [], start=1):
        if not isinstance(contact, dict):
            continue
        name = " ".join(str(contact.get(k) or "") for k in ("first_name", "last_name")).strip()
        phone = str(contact.get("phone_number") or "")
        timestamp, tz = _when(contact)
        body = f"Contact saved in Telegram: {name or '(no name)'}, phone {phone or 'not given'}"
        yield PhoneRecord(kind="contact", record_id=f"contact {n}", thread="Telegram contacts", timestamp=timestamp,
                          tz=tz, body=body, sender=name or phone, source_app="Telegram",
                          provenance=(f"{source}#contacts {n}",))


def parse_export(raw: bytes, source: str) -> tuple[list[PhoneRecord], list[str]]:
    data = json.loads(raw.decode("utf-8-sig"))
    if not looks_like_export(data):
        raise ValueError("JSON is not a Telegram Desktop export (no 'messages' list and no 'chats.list')")
    personal = data.get("personal_information") if isinstance(data.get("personal_information"), dict) else {}
    owner_id = str(personal.get("user_id") or "")
    device = ""
    if personal:
        owner = " ".join(str(personal.get(k) or "") for k in ("first_name", "last_name")).strip()
        device = f"Telegram account {owner or owner_id} {personal.get('phone_number') or ''}".strip()
    chats: list[dict[str, Any]] = []
    if isinstance(data.get("messages"), list):
        chats.append(data)
    for key in ("chats", "left_chats"):
        block = data.get(key)
        if isinstance(block, dict) and isinstance(block.get("list"), list):
            chats.extend(c for c in block["list"] if isinstance(c, dict))
    records = [r for n, chat in enumerate(chats, start=1) for r in _chat_records(chat, source, owner_id, n)]
    records.extend(_contact_records(data.get("contacts"), source))
    if device:
        from dataclasses import replace

        records = [replace(r, device=device) for r in records]
    kinds = Counter(r.kind for r in records)
    local = sum(1 for r in records if r.tz and r.tz != "UTC")
    notes = [f"Telegram export: {len(chats)} chat(s), {kinds['message']} message(s), {kinds['system']} service "
             f"message(s), {kinds['call']} call(s), {kinds['contact']} contact(s)"]
    if local:
        notes.append(f"{local} record(s) have no date_unixtime: local time of the exporting PC, zone unknown")
    return records, notes
