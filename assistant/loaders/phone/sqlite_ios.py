"""iOS phone databases: Messages `sms.db`/`chat.db` and WhatsApp `ChatStorage.sqlite`.

sms.db: one record per `message` row. The body is `text`, or when that is NULL the string inside the typedstream
`attributedBody`; a row with neither is kept and says its body could not be read. Thread: the chat's identifier
(via `chat_message_join`/`chat` when present) else the handle. Dates are Cocoa seconds, or nanoseconds above 1e15.
Tapbacks (associated_message_type 2000-3007) are kept as reactions. Apple GUIDs are the app ids.

ChatStorage.sqlite: one record per `ZWAMESSAGE` row; `ZSTANZAID` is WhatsApp's key id; the chat comes from
`ZWACHATSESSION` (partner or group name); media paths from `ZWAMEDIAITEM`. Rows without text are group events or
media and say so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from assistant.loaders.phone.records import PhoneRecord, from_cocoa
from assistant.loaders.phone.sqlite_open import columns, tables
from assistant.loaders.phone.typedstream import attributed_text

_WA_TYPES = {0: "text", 1: "picture", 2: "video", 3: "audio", 4: "contact card", 5: "location", 6: "group event",
             7: "link", 8: "document", 10: "group event", 15: "sticker"}


def _cocoa(value: object) -> str:
    return from_cocoa(float(value)) if isinstance(value, int | float) and value else ""


def ios_sms_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    have = tables(conn)
    cols = columns(conn, "message")
    handles = {row[0]: str(row[1]) for row in conn.execute("SELECT ROWID, id FROM handle")}
    chat_of: dict[int, str] = {}
    if "chat_message_join" in have:
        names: dict[int, str] = {}
        if "chat" in have:
            names = {r[0]: str(r[1] or r[2] or r[0]) for r in conn.execute(
                "SELECT ROWID, display_name, chat_identifier FROM chat")}
        for chat_id, message_id in conn.execute("SELECT chat_id, message_id FROM chat_message_join"):
            chat_of[message_id] = names.get(chat_id, f"chat {chat_id}")
    wanted = [c for c in ("ROWID", "guid", "text", "attributedBody", "handle_id", "service", "date", "is_from_me",
                          "associated_message_type", "is_system_message", "date_retracted") if c in cols]
    for row in conn.execute(f"SELECT {', '.join(wanted)} FROM message ORDER BY ROWID"):
        data = dict(row)
        handle = handles.get(data.get("handle_id"), str(data.get("handle_id") or "").strip())
        body = data.get("text") or attributed_text(data.get("attributedBody")) or ""
        if not body:
            body = "(message body not readable: no text and no decodable attributedBody)"
        reaction = 2000 <= int(data.get("associated_message_type") or 0) <= 3007
        outgoing = bool(data.get("is_from_me"))
        service = str(data.get("service") or "iMessage")
        yield PhoneRecord(
            kind="system" if data.get("is_system_message") else "message", record_id=f"row {data['ROWID']}",
            thread=chat_of.get(data["ROWID"], handle or "unknown"), timestamp=_cocoa(data.get("date")), tz="UTC",
            body=f"(reaction) {body}" if reaction else body, sender="phone owner" if outgoing else handle,
            recipients=(handle,) if outgoing and handle else ("phone owner",) if not outgoing else (),
            app_id=str(data.get("guid") or ""), deleted=bool(data.get("date_retracted")),
            direction="outgoing" if outgoing else "incoming", source_app=service,
            provenance=(f"{source}#message ROWID {data['ROWID']}",))


def ios_whatsapp_records(conn: sqlite3.Connection, source: str) -> Iterator[PhoneRecord]:
    conn.row_factory = sqlite3.Row
    sessions = {r["Z_PK"]: (str(r["ZCONTACTJID"] or ""), str(r["ZPARTNERNAME"] or ""))
                for r in conn.execute("SELECT Z_PK, ZCONTACTJID, ZPARTNERNAME FROM ZWACHATSESSION")}
    members = {r["Z_PK"]: (str(r["ZMEMBERJID"] or ""), str(r["ZCONTACTNAME"] or ""))
               for r in conn.execute("SELECT Z_PK, ZMEMBERJID, ZCONTACTNAME FROM ZWAGROUPMEMBER")} \
        if "ZWAGROUPMEMBER" in tables(conn) else {}
    media = {r["Z_PK"]: " ".join(str(v) for v in (r["ZMEDIALOCALPATH"], r["ZTITLE"]) if v)
             for r in conn.execute("SELECT Z_PK, ZMEDIALOCALPATH, ZTITLE FROM ZWAMEDIAITEM")} \
        if "ZWAMEDIAITEM" in tables(conn) else {}
    for row in conn.execute("SELECT Z_PK, ZMESSAGEDATE, ZISFROMME, ZFROMJID, ZTOJID, ZTEXT, ZSTANZAID, ZMESSAGETYPE, "
                            "ZCHATSESSION, ZGROUPMEMBER, ZMEDIAITEM FROM ZWAMESSAGE ORDER BY Z_PK"):
        jid, partner = sessions.get(row["ZCHATSESSION"], ("", ""))
        thread = f"{partner} ({jid})" if partner and jid else partner or jid or f"session {row['ZCHATSESSION']}"
        outgoing = bool(row["ZISFROMME"])
        member = members.get(row["ZGROUPMEMBER"])
        sender = "phone owner" if outgoing else (
            (f"{member[1]} ({member[0]})" if member[1] else member[0]) if member else str(row["ZFROMJID"] or ""))
        kind_code = int(row["ZMESSAGETYPE"] or 0)
        attachment = media.get(row["ZMEDIAITEM"], "")
        body = str(row["ZTEXT"] or "")
        system = kind_code in (6, 10) and not body
        if not body and not attachment:
            body = f"({_WA_TYPES.get(kind_code, f'WhatsApp message type {kind_code}')}, no text)"
        recipients = (str(row["ZTOJID"]),) if outgoing and row["ZTOJID"] else ("phone owner",) if not outgoing else ()
        yield PhoneRecord(
            kind="system" if system else "message", record_id=f"Z_PK {row['Z_PK']}", thread=thread,
            timestamp=_cocoa(row["ZMESSAGEDATE"]), tz="UTC", body=body, sender=sender, recipients=recipients,
            app_id=str(row["ZSTANZAID"] or ""), direction="outgoing" if outgoing else "incoming",
            source_app="WhatsApp", attachments=(attachment,) if attachment else (),
            provenance=(f"{source}#ZWAMESSAGE Z_PK {row['Z_PK']}",))
