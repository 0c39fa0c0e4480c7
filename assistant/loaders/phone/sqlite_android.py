"""Android phone databases: `mmssms.db` (SMS and MMS), WhatsApp `msgstore.db` (new and legacy schema), WhatsApp
`wa.db` (contacts) and `calllog.db` (calls).

mmssms: `sms.date` is milliseconds UTC, `type` 1 inbox / 2 sent / 3 draft / 4 outbox / 5 failed / 6 queued; MMS
rows come from `pdu` (date in seconds, `msg_box`), their parties from `addr` (0x89 from, 0x97 to, 0x82 cc,
0x81 bcc) and their text and files from `part`. msgstore: `message.key_id` is WhatsApp's key, the chat's JID and
subject name the thread, `message_revoked` marks deleted messages and `message_media` gives file paths. When the
new `message` table is empty and the legacy `messages` table is not (transitional stores), the legacy one is read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from assistant.loaders.phone.records import PhoneRecord, from_epoch, human_duration, human_utc
from assistant.loaders.phone.sqlite_open import columns, tables

_SMS_BOX = {1: "incoming", 2: "outgoing", 3: "draft", 4: "outgoing", 5: "outgoing", 6: "outgoing"}
_ADDR_ROLE = {0x89: "from", 0x97: "to", 0x82: "cc", 0x81: "bcc"}
_CALL_TYPE = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "blocked"}


def _ms(value: object) -> str:
    return from_epoch(float(value) / 1000.0) if isinstance(value, int | float) and value else ""


def android_sms_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    for row in conn.execute("SELECT _id, thread_id, address, date, type, body FROM sms ORDER BY _id"):
        direction = _SMS_BOX.get(int(row["type"] or 0), "")
        address = str(row["address"] or "")
        outgoing = direction == "outgoing"
        body = str(row["body"] or "") or "(empty SMS body)"
        if direction == "draft":
            body = f"(draft, not sent) {body}"
        yield PhoneRecord(
            kind="message", record_id=f"sms {row['_id']}", thread=f"thread {row['thread_id']} ({address})",
            timestamp=_ms(row["date"]), tz="UTC", body=body, sender="phone owner" if outgoing else address,
            recipients=(address,) if outgoing else ("phone owner",), direction=direction, source_app="SMS",
            provenance=(f"{source}#sms _id {row['_id']}",))
    if {"pdu", "addr", "part"} <= tables(conn):
        yield from _mms(conn, source)


def _mms(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    parties: dict[int, dict[str, list[str]]] = {}
    for row in conn.execute("SELECT msg_id, address, type FROM addr"):
        role = _ADDR_ROLE.get(int(row["type"] or 0), "other")
        parties.setdefault(row["msg_id"], {}).setdefault(role, []).append(str(row["address"] or ""))
    texts: dict[int, list[str]] = {}
    files: dict[int, list[str]] = {}
    for row in conn.execute("SELECT mid, ct, cl, _data, text FROM part ORDER BY mid, seq"):
        if row["ct"] == "text/plain" and row["text"]:
            texts.setdefault(row["mid"], []).append(str(row["text"]))
        elif row["ct"] not in ("application/smil", "text/plain"):
            files.setdefault(row["mid"], []).append(f"{row['cl'] or row['_data'] or 'file'} {row['ct']}".strip())
    for row in conn.execute("SELECT _id, thread_id, date, msg_box FROM pdu ORDER BY _id"):
        who = parties.get(row["_id"], {})
        direction = _SMS_BOX.get(int(row["msg_box"] or 0), "")
        seconds = row["date"]
        yield PhoneRecord(
            kind="message", record_id=f"mms {row['_id']}", thread=f"thread {row['thread_id']}",
            timestamp=from_epoch(float(seconds)) if seconds else "", tz="UTC",
            body=" ".join(texts.get(row["_id"], [])), sender=", ".join(who.get("from", [])),
            recipients=tuple(who.get("to", []) + who.get("cc", []) + who.get("bcc", [])), direction=direction,
            source_app="MMS", attachments=tuple(files.get(row["_id"], [])),
            provenance=(f"{source}#pdu _id {row['_id']}",))


def android_whatsapp_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    have = tables(conn)
    if "message" in have and "key_id" in columns(conn, "message") and \
            conn.execute("SELECT 1 FROM message LIMIT 1").fetchone() is not None:
        yield from _whatsapp_new(conn, source, have)
    elif "messages" in have:
        yield from _whatsapp_legacy(conn, source)


def _whatsapp_new(conn: sqlite3.Connection, source: str, have: set[str]) -> Iterator[PhoneRecord]:
    jids = {r["_id"]: str(r["raw_string"] or f"{r['user']}@{r['server']}") for r in conn.execute(
        "SELECT _id, user, server, raw_string FROM jid")}
    chats = {r["_id"]: (jids.get(r["jid_row_id"], ""), str(r["subject"] or "")) for r in conn.execute(
        "SELECT _id, jid_row_id, subject FROM chat")}
    revoked = {r[0] for r in conn.execute("SELECT message_row_id FROM message_revoked")} \
        if "message_revoked" in have else set()
    media = {r[0]: " ".join(str(v) for v in r[1:] if v) for r in conn.execute(
        "SELECT message_row_id, file_path, mime_type FROM message_media")} if "message_media" in have else {}
    for row in conn.execute("SELECT _id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, "
                            "text_data FROM message ORDER BY _id"):
        jid, subject = chats.get(row["chat_row_id"], ("", ""))
        outgoing = bool(row["from_me"])
        sender = "phone owner" if outgoing else jids.get(row["sender_jid_row_id"], "") or jid
        deleted = row["_id"] in revoked
        body = str(row["text_data"] or "")
        attachment = media.get(row["_id"], "")
        system = int(row["message_type"] or 0) == 7
        yield PhoneRecord(
            kind="system" if system else "message", record_id=f"message {row['_id']}",
            thread=f"{subject} ({jid})" if subject else jid or f"chat {row['chat_row_id']}",
            timestamp=_ms(row["timestamp"]), tz="UTC", body=body, sender=sender,
            recipients=(jid,) if outgoing else ("phone owner",), app_id=str(row["key_id"] or ""), deleted=deleted,
            direction="outgoing" if outgoing else "incoming", source_app="WhatsApp",
            attachments=(attachment,) if attachment else (), provenance=(f"{source}#message _id {row['_id']}",))


def _whatsapp_legacy(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    for row in conn.execute("SELECT _id, key_remote_jid, key_from_me, key_id, data, timestamp, media_mime_type, "
                            "media_name, remote_resource FROM messages ORDER BY _id"):
        jid = str(row["key_remote_jid"] or "")
        if jid == "-1":  # the store's own status row, not a message
            continue
        outgoing = bool(row["key_from_me"])
        media = " ".join(str(v) for v in (row["media_name"], row["media_mime_type"]) if v)
        yield PhoneRecord(
            kind="message", record_id=f"messages {row['_id']}", thread=jid, timestamp=_ms(row["timestamp"]),
            tz="UTC", body=str(row["data"] or ""),
            sender="phone owner" if outgoing else str(row["remote_resource"] or "") or jid,
            recipients=(jid,) if outgoing else ("phone owner",), app_id=str(row["key_id"] or ""),
            direction="outgoing" if outgoing else "incoming", source_app="WhatsApp",
            attachments=(media,) if media else (), provenance=(f"{source}#messages _id {row['_id']}",))


def wa_contact_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    for row in conn.execute("SELECT _id, jid, number, display_name, wa_name FROM wa_contacts ORDER BY _id"):
        name = str(row["display_name"] or row["wa_name"] or "")
        number = str(row["number"] or "")
        body = (f"Contact saved on the phone (WhatsApp): {name or '(no name)'} — number {number or 'not given'}, "
                f"WhatsApp id {row['jid']}")
        yield PhoneRecord(kind="contact", record_id=f"wa_contacts {row['_id']}", thread="contacts", timestamp="",
                          body=body, sender=name or number, source_app="WhatsApp",
                          provenance=(f"{source}#wa_contacts _id {row['_id']}",))


def call_log_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    has_name = "name" in columns(conn, "calls")
    name_col = "name" if has_name else "NULL AS name"
    for row in conn.execute(f"SELECT _id, number, date, duration, type, {name_col} FROM calls ORDER BY _id"):
        direction = _CALL_TYPE.get(int(row["type"] or 0), "")
        number = str(row["number"] or "unknown number")
        who = f"{number} (saved as {row['name']})" if row["name"] else number
        stamp = _ms(row["date"])
        where = "to" if direction == "outgoing" else "from"
        lasted = f", lasted {human_duration(int(row['duration']))}" if row["duration"] is not None else ""
        body = f"Call, {direction or 'direction unknown'}, {where} {who}, {human_utc(stamp)}{lasted}"
        yield PhoneRecord(kind="call", record_id=f"calls {row['_id']}", thread="calls", timestamp=stamp, tz="UTC",
                          body=body, sender="phone owner" if direction == "outgoing" else who,
                          recipients=(who,) if direction == "outgoing" else ("phone owner",), direction=direction,
                          source_app="phone", provenance=(f"{source}#calls _id {row['_id']}",))
