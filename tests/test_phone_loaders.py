"""Seized-phone loaders on reports and databases we build here in the documented shapes (PHONE_FORMATS.md):
a full PA XML report and its .ufdr zip, Android msgstore.db (the IPED schema), wa.db, mmssms.db, calllog.db."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.loaders import discover, load_file_with_notes
from assistant.loaders.phone.merge import merge_duplicates
from assistant.loaders.phone.records import PhoneRecord, record_of, to_message
from tests import pa_report as pa
from tests.phone_samples import sample

OWNER = ("+447700900001", "", True)
KIRA = ("+447700900418", "Kira Lane", False)


def report_xml() -> str:
    out = io.StringIO()
    messages = [pa.instant_message("m1", "KEY-1", "2024-03-15T10:00:00.000+01:00", KIRA, "Bring the parcel"),
                pa.instant_message("m2", "KEY-2", "2024-03-15T10:05:00.000+00:00", OWNER, "On my way",
                                   attachment="files/Image/IMG-1.jpg"),
                pa.instant_message("m3", "KEY-3", "2024-03-15T10:07:00.000+00:00", KIRA, "Burn the notebook",
                                   deleted=True)]
    pa.write_report(out, [
        ("Chat", pa.chat("c1", "447700900418@s.whatsapp.net", [KIRA, OWNER], messages)),
        ("Call", [pa.call("k1", "2024-03-15T10:12:00.000+00:00", "Incoming", "07700 900418", "Kira Lane",
                          "00:02:31")]),
        ("Contact", [pa.contact("p1", "Kira Lane", "07700 900418", "kira@example.org")]),
        ("SMS", [pa.sms("s1", "2024-03-14T09:00:00.000+00:00", "+447700900777", "Code is 4471")]),
        ("Location", [pa.model("Location", "l1", pa.field("Name", "Home")),
                      pa.model("Location", "l2", pa.field("Name", "Work"))]),
    ], owner="Sam Vale")
    return out.getvalue()


def records_of(path: Path) -> tuple[list[PhoneRecord], list[str]]:
    doc, notes = load_file_with_notes(path, path.parent)
    found = [record_of(m.phone) for m in doc.messages]
    return [r for r in found if r is not None], notes


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.xml"
    path.write_text(report_xml(), encoding="utf-8")
    return path


def test_pa_report_messages_calls_contacts_device(report: Path) -> None:
    recs, notes = records_of(report)
    kinds = sorted(r.kind for r in recs)
    assert kinds == ["call", "contact", "device", "message", "message", "message", "message"]
    assert notes[0] == "read 4 message(s), 1 call(s), 1 contact(s), 1 device record(s); 1 deleted"
    assert "not read (no loader for these models yet): 2 Location" in notes
    first = next(r for r in recs if r.app_id == "KEY-1")
    assert (first.timestamp, first.tz) == ("2024-03-15T09:00:00+00:00", "source offset +01:00")
    assert first.sender == "Kira Lane (+447700900418)" and first.direction == "incoming"
    assert first.recipients == ("+447700900001",)  # the chat's other participant
    assert first.device == "Galaxy S10" and first.extraction == "File System 01"
    assert first.source_app == "WhatsApp" and first.thread == "447700900418@s.whatsapp.net"
    assert first.provenance == ("report.xml#model m1",)
    sent = next(r for r in recs if r.app_id == "KEY-2")
    assert sent.direction == "outgoing" and sent.attachments == ("IMG-1.jpg (files/Image/IMG-1.jpg)",)
    call = next(r for r in recs if r.kind == "call")
    assert call.body == ("Phone call, incoming, from 07700 900418 (saved as Kira Lane), 15/03/2024 10:12 UTC, "
                         "lasted 2 min 31 s")
    contact = next(r for r in recs if r.kind == "contact")
    assert "Kira Lane" in contact.body and "07700 900418" in contact.body and "kira@example.org" in contact.body
    device = next(r for r in recs if r.kind == "device")
    assert "IMEI 356938035643809" in device.body and "MSISDN +447700900001" in device.body
    assert "owner Sam Vale" in device.body
    sms = next(r for r in recs if r.source_app == "SMS")
    assert sms.sender == "+447700900777" and sms.body == "Code is 4471"


def test_a_deleted_message_says_so_in_the_text_that_is_searched(report: Path) -> None:
    doc, _ = load_file_with_notes(report, report.parent)
    deleted = next(m for m in doc.messages if m.message_id == "KEY-3")
    assert deleted.body.startswith("[DELETED message, recovered from the extraction] Burn the notebook")
    assert record_of(deleted.phone) is not None and record_of(deleted.phone).deleted  # type: ignore[union-attr]
    kept = next(m for m in doc.messages if m.message_id == "KEY-1")
    assert "DELETED" not in kept.body


def test_ufdr_zip_reads_the_same_records_as_its_report(report: Path, tmp_path: Path) -> None:
    ufdr = tmp_path / "phone.ufdr"
    with zipfile.ZipFile(ufdr, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(report, "report.xml")
        z.writestr("files/Image/IMG-1.jpg", b"\xff\xd8")
    from_zip, _ = records_of(ufdr)
    from_xml, _ = records_of(report)
    assert [(r.kind, r.body) for r in from_zip] == [(r.kind, r.body) for r in from_xml]
    empty = tmp_path / "empty.ufdr"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(IngestError, match=r"no report\.xml"):
        load_file_with_notes(empty, tmp_path)


def test_truncated_or_foreign_xml_is_refused_with_a_reason(report: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.xml"
    cut.write_text(report.read_text(encoding="utf-8")[:900], encoding="utf-8")
    with pytest.raises(IngestError, match="not well-formed XML"):
        load_file_with_notes(cut, tmp_path)
    other = tmp_path / "pom.xml"
    other.write_text("<project><modelVersion>4.0.0</modelVersion></project>", encoding="utf-8")
    with pytest.raises(IngestError, match="no Cellebrite model"):
        load_file_with_notes(other, tmp_path)


def test_phone_records_fit_the_message_chunk_structure(report: Path) -> None:
    from assistant.config import load_settings
    from assistant.ingest.chunking import chunk_document, message_records
    from assistant.ingest.tokenizer import load_tokenizer

    doc, _ = load_file_with_notes(report, report.parent)
    chunks = chunk_document(doc, "case1", load_tokenizer(), load_settings())
    call_chunk = next(c for c in chunks if c.meta["thread_id"] == "calls")
    assert call_chunk.locator.startswith("Galaxy S10 / thread calls / msg k1 / ")
    (rec,) = message_records(call_chunk)
    assert call_chunk.text[rec.start:rec.end].startswith("Phone call, incoming, from 07700 900418")
    assert record_of(rec.phone).kind == "call"  # type: ignore[union-attr]


# ---------------------------------------------------------------- Android databases


def _schema(relative: str) -> str:
    """The `.schema` dump of a real store, without SQLite's own tables (created automatically)."""
    lines = sample(relative).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("CREATE TABLE sqlite_"))


def make_db(path: Path, *scripts: str) -> Path:
    """An SQLite file built from SQL scripts (a real store's schema, then our rows)."""
    conn = sqlite3.connect(path)
    for script in scripts:
        conn.executescript(script)
    conn.commit()
    conn.close()
    return path


def test_android_msgstore_new_schema_with_revoked_and_media(tmp_path: Path) -> None:
    db = make_db(tmp_path / "msgstore.db", _schema("android_sqlite/iped_test_whatsAppMsgStore_SCHEMA_ONLY.sql"), """
        INSERT INTO jid(_id, user, server, raw_string) VALUES (1, '447700900418', 's.whatsapp.net',
            '447700900418@s.whatsapp.net');
        INSERT INTO chat(_id, jid_row_id, subject) VALUES (1, 1, NULL);
        INSERT INTO message(_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type,
            text_data, sort_id) VALUES (1, 1, 0, 'ABC1', 0, 1710496800000, 0, 'Meet at the station', 1),
            (2, 1, 1, 'ABC2', 0, 1710496860000, 1, NULL, 2), (3, 1, 0, 'ABC3', 0, 1710496920000, 15, NULL, 3);
        INSERT INTO message_media(message_row_id, chat_row_id, file_path, mime_type)
            VALUES (2, 1, 'Media/WhatsApp Images/IMG-1.jpg', 'image/jpeg');
        INSERT INTO message_revoked(message_row_id, revoked_key_id) VALUES (3, 'ABC3');
    """)
    recs, notes = records_of(db)
    assert [r.app_id for r in recs] == ["ABC1", "ABC2", "ABC3"]
    assert recs[0].timestamp == "2024-03-15T10:00:00+00:00" and recs[0].sender == "447700900418@s.whatsapp.net"
    assert recs[1].direction == "outgoing" and recs[1].attachments == ("Media/WhatsApp Images/IMG-1.jpg image/jpeg",)
    assert recs[2].deleted
    assert "WhatsApp Android (msgstore.db)" in notes[1]


def test_android_msgstore_legacy_rows_are_read_when_the_new_table_is_empty(tmp_path: Path) -> None:
    db = make_db(tmp_path / "msgstore.db", _schema("android_sqlite/iped_test_whatsAppMsgStore_SCHEMA_ONLY.sql"),
                 "INSERT INTO messages(key_remote_jid, key_from_me, key_id, data, timestamp) "
                 "VALUES ('447700900418@s.whatsapp.net', 1, 'L1', 'legacy hello', 1710496800000)")
    recs, _ = records_of(db)
    assert [(r.app_id, r.body, r.direction) for r in recs] == [("L1", "legacy hello", "outgoing")]


def test_wa_db_contacts_are_citable_contact_records(tmp_path: Path) -> None:
    db = make_db(tmp_path / "wa.db", _schema("android_sqlite/iped_test_whatsApp_wa_db_SCHEMA_ONLY.sql"),
                 "INSERT INTO wa_contacts(jid, is_whatsapp_user, number, display_name) "
                 "VALUES ('447700900418@s.whatsapp.net', 1, '07700 900418', 'Kira Lane')")
    (rec,), _ = records_of(db)
    assert rec.kind == "contact" and "Kira Lane" in rec.body and "07700 900418" in rec.body


def test_android_mmssms_and_call_log(tmp_path: Path) -> None:
    db = make_db(tmp_path / "mmssms.db", """
        CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER,
            date_sent INTEGER, read INTEGER, type INTEGER, body TEXT, service_center TEXT);
        CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, msg_box INTEGER);
        CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, address TEXT, type INTEGER);
        CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER, ct TEXT, cl TEXT, _data TEXT,
            text TEXT);
        INSERT INTO sms VALUES (1, 7, '+447700900418', NULL, 1710496800000, 0, 1, 1, 'Where are you', NULL),
                               (2, 7, '+447700900418', NULL, 1710496860000, 0, 1, 2, 'Outside', NULL);
        INSERT INTO pdu VALUES (9, 7, 1710496900, 1);
        INSERT INTO addr VALUES (1, 9, '+447700900418', 137), (2, 9, '+447700900001', 151);
        INSERT INTO part VALUES (1, 9, 0, 'text/plain', NULL, NULL, 'see photo'),
                                (2, 9, 1, 'image/jpeg', 'IMG_1.jpg', '/data/parts/PART_1', NULL);
    """)
    recs, _ = records_of(db)
    assert [(r.source_app, r.direction, r.body) for r in recs] == [
        ("SMS", "incoming", "Where are you"), ("SMS", "outgoing", "Outside"), ("MMS", "incoming", "see photo")]
    assert recs[2].sender == "+447700900418" and recs[2].attachments == ("IMG_1.jpg image/jpeg",)
    calls = make_db(tmp_path / "calllog.db", """
        CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER, duration INTEGER, type INTEGER,
            name TEXT);
        INSERT INTO calls VALUES (1, '07700 900418', 1710497520000, 151, 1, 'Kira Lane'),
                                 (2, '07700 900999', 1710497600000, 0, 3, NULL);
    """)
    recs, _ = records_of(calls)
    assert recs[0].body == ("Call, incoming, from 07700 900418 (saved as Kira Lane), 15/03/2024 10:12 UTC, "
                            "lasted 2 min 31 s")
    assert recs[1].body.startswith("Call, missed, from 07700 900999")


def test_a_database_of_another_app_and_a_non_database_are_refused(tmp_path: Path) -> None:
    other = make_db(tmp_path / "notes.db", "CREATE TABLE notes (id INTEGER, body TEXT)")
    with pytest.raises(IngestError, match="unknown app"):
        load_file_with_notes(other, tmp_path)
    fake = tmp_path / "fake.sqlite"
    fake.write_bytes(b"not a database at all")
    with pytest.raises(IngestError, match="not an SQLite database"):
        load_file_with_notes(fake, tmp_path)


# ---------------------------------------------------------------- records, merging, sniffing


def test_record_codec_round_trips() -> None:
    rec = PhoneRecord(kind="call", record_id="k1", thread="calls", timestamp="2024-03-15T10:12:00+00:00",
                      body="Call", recipients=("a", "b"), deleted=True, provenance=("x#1",))
    assert PhoneRecord.from_dict(rec.to_dict()) == rec
    assert record_of(to_message(rec).phone) == rec
    with pytest.raises(ValueError, match="unknown record kind"):
        PhoneRecord.from_dict({**rec.to_dict(), "kind": "bogus"})


def test_duplicates_across_sources_are_merged_once_with_every_provenance() -> None:
    a = PhoneRecord(kind="message", record_id="m1", thread="t", timestamp="2024-03-15T10:00:00+00:00", body="hi",
                    app_id="KEY-1", source_app="WhatsApp", provenance=("phone.ufdr#model m1",))
    b = PhoneRecord(kind="message", record_id="message 4", thread="other name", timestamp=a.timestamp, body="hi",
                    app_id="KEY-1", source_app="WhatsApp", provenance=("msgstore.db#message _id 4",))
    t1 = PhoneRecord(kind="message", record_id="L1", thread="x", timestamp="2024-03-15T10:00:00", body="see  you",
                     sender="Kira", source_app="WhatsApp", provenance=("chat1.txt#line 1",))
    t2 = PhoneRecord(kind="message", record_id="L9", thread="y", timestamp="2024-03-15T10:00:00", body="see you",
                     sender="Kira", source_app="WhatsApp", provenance=("chat2.txt#line 9",))
    t3 = PhoneRecord(kind="message", record_id="L10", thread="y", timestamp="2024-03-15T10:01:00", body="see you",
                     sender="Kira", source_app="WhatsApp", provenance=("chat2.txt#line 10",))
    merged, n = merge_duplicates([a, b, t1, t2, t3])
    assert n == 2 and len(merged) == 3
    assert merged[0].provenance == ("phone.ufdr#model m1", "msgstore.db#message _id 4")
    assert merged[1].provenance == ("chat1.txt#line 1", "chat2.txt#line 9")


def test_txt_is_sniffed_as_whatsapp_or_plain_text_and_phone_suffixes_are_discovered(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Kira.txt"
    chat.write_text("15/03/2024, 10:12 - Kira: hi\n15/03/2024, 10:13 - Sam: hello\n", encoding="utf-8")
    note = tmp_path / "note.txt"
    note.write_text("Statement of Sam Vale.\n15/03/2024, 10:12 - the time I left.\n", encoding="utf-8")
    doc, _ = load_file_with_notes(chat, tmp_path)
    assert doc.kind == "messages" and [m.sender for m in doc.messages] == ["Kira", "Sam"]
    assert doc.messages[0].thread_id == "WhatsApp Chat with Kira"
    assert load_file_with_notes(note, tmp_path)[0].kind == "text"
    for name in ("a.ufdr", "b.xml", "c.db", "d.sqlite", "e.json"):
        (tmp_path / name).write_bytes(b"x")
    found, unsupported = discover([tmp_path])
    assert {p.name for p, _ in found} >= {"a.ufdr", "b.xml", "c.db", "d.sqlite", "e.json"} and not unsupported


def test_telegram_full_export_calls_contacts_and_direction(tmp_path: Path) -> None:
    import json

    export = {"personal_information": {"user_id": 42, "first_name": "Sam", "phone_number": "+44 7700 900001"},
              "contacts": {"list": [{"first_name": "Kira", "last_name": "Lane", "phone_number": "+44 7700 900418",
                                     "date_unixtime": "1710496800"}]},
              "chats": {"list": [{"name": "Kira Lane", "type": "personal_chat", "id": 7, "messages": [
                  {"id": 1, "type": "message", "date_unixtime": "1710496800", "from": "Sam", "from_id": "user42",
                   "text": ["Call me on ", {"type": "phone", "text": "+44 7700 900418"}]},
                  {"id": 2, "type": "service", "date_unixtime": "1710497520", "actor": "Kira Lane",
                   "actor_id": "user7", "action": "phone_call", "duration_seconds": 151},
                  {"id": 3, "type": "message", "date_unixtime": "1710497600", "from": "Kira Lane",
                   "from_id": "user7", "text": "", "photo": "photos/photo_1.jpg"}]}]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    recs, notes = records_of(path)
    by_id = {r.app_id: r for r in recs if r.app_id}
    assert by_id["7:1"].body == "Call me on +44 7700 900418" and by_id["7:1"].direction == "outgoing"
    assert by_id["7:2"].kind == "call"
    assert by_id["7:2"].body == "Telegram call from Kira Lane, 15/03/2024 10:12 UTC, lasted 2 min 31 s"
    assert by_id["7:3"].attachments == ("photo: photos/photo_1.jpg",) and by_id["7:3"].direction == "incoming"
    contact = next(r for r in recs if r.kind == "contact")
    assert "Kira Lane" in contact.body and "+44 7700 900418" in contact.body
    assert all(r.device == "Telegram account Sam +44 7700 900001" for r in recs)
    assert notes[0] == "read 2 message(s), 1 call(s), 1 contact(s)"


def test_a_whatsapp_export_zip_with_media_and_refused_zips(tmp_path: Path) -> None:
    export = tmp_path / "WhatsApp Chat - Kira.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("_chat.txt", "[15/03/2024, 10:12:01] Kira: see this\n"
                                "[15/03/2024, 10:12:09] Kira: <attached: 00000042-PHOTO-2024-03-15-10-12-09.jpg>\n")
        z.writestr("00000042-PHOTO-2024-03-15-10-12-09.jpg", b"\xff\xd8")
    recs, notes = records_of(export)
    assert [r.body for r in recs] == ["see this", ""]
    assert recs[1].attachments == ("00000042-PHOTO-2024-03-15-10-12-09.jpg (in the archive: "
                                   "00000042-PHOTO-2024-03-15-10-12-09.jpg)",)
    assert recs[0].provenance == ("WhatsApp Chat - Kira.zip!_chat.txt#line 1",)
    assert any("read as day/month/year" in n for n in notes)
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("a.jpg", b"\xff\xd8")
    with pytest.raises(IngestError, match="no WhatsApp chat export and no known phone database"):
        load_file_with_notes(other, tmp_path)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(IngestError, match="unreadable zip"):
        load_file_with_notes(broken, tmp_path)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("cut.ufdr", b"PK\x03\x04\x14\x00\x00\x00", "unreadable zip|not well-formed|no report"),
    ("noise.ufdr", b"\x00\x01\x02 random bytes", "not well-formed XML"),
    ("bad.json", b'{"messages": [', "invalid JSON at line 1"),
    ("list.json", b'{"messages": "not a list"}', "not a Telegram Desktop export"),
    ("latin.json", b'{"name": "caf\xe9", "messages": []}', "JSON is not UTF-8"),
    ("empty_chat.json", b'{"name": "x", "messages": []}', "no messages, calls or contacts"),
    ("half.db", b"SQLite format 3\x00" + b"\x00" * 84, "unreadable SQLite database|unknown app"),
])
def test_broken_phone_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                                      reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=reason) as caught:
        load_file_with_notes(path, tmp_path)
    assert caught.value.path == name
