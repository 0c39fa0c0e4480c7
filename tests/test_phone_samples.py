"""The public seized-phone fixtures in ../shared/phone_samples ingest with the counts their sources state
(SOURCES.md) and, where the source ships its expected parse (chat-miner's target.json), with equal fields."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.loaders import load_file_with_notes
from assistant.loaders.phone.records import LOCAL_UNKNOWN, PhoneRecord, record_of
from assistant.types import Document
from tests.phone_samples import sample

CHATMINER_WHATSAPP = ["chatminer_test_ddmmyy_24hrs.txt", "chatminer_test_mmddyy_24hrs.txt",
                      "chatminer_test_bracketed_mmddyy_24hrs.txt", "chatminer_test_mmddyyyy_12hrs.txt",
                      "chatminer_test_yyyymmdd_24hrs.txt"]


def records(doc: Document) -> list[PhoneRecord]:
    found = [record_of(m.phone) for m in doc.messages]
    assert all(r is not None for r in found)
    return [r for r in found if r is not None]


def load(path: Path) -> tuple[Document, list[str], list[PhoneRecord]]:
    doc, notes = load_file_with_notes(path, path.parent)
    return doc, notes, records(doc)


@pytest.mark.parametrize("name", CHATMINER_WHATSAPP)
def test_whatsapp_chatminer_exports_equal_their_target(name: str) -> None:
    target = json.loads(sample("whatsapp_txt/chatminer_target.json").read_text(encoding="utf-8"))
    _, notes, recs = load(sample(f"whatsapp_txt/{name}"))
    got = [r for r in recs if r.kind == "message"]
    want = sorted(target, key=lambda t: t["timestamp"])
    assert [(r.timestamp, r.sender) for r in got] == [(t["timestamp"], t["author"]) for t in want]
    # chat-miner joins a message's continuation lines with a space; we keep the line break the export has
    assert [r.body.replace("\n", " ") for r in got] == [t["message"] for t in want]
    assert all(r.tz == LOCAL_UNKNOWN and r.source_app == "WhatsApp" for r in recs)
    assert sum(r.kind == "system" for r in recs) == 3  # "created group", "You were added", "John Doe:."
    assert any("read as" in n for n in notes)


@pytest.mark.parametrize(("name", "order"), [("chatminer_test_ddmmyy_24hrs.txt", "day/month/year"),
                                             ("chatminer_test_mmddyy_24hrs.txt", "month/day/year"),
                                             ("chatminer_test_yyyymmdd_24hrs.txt", "year/month/day")])
def test_day_month_order_is_inferred_per_file_and_reported(name: str, order: str) -> None:
    _, notes, _ = load(sample(f"whatsapp_txt/{name}"))
    assert any(f"read as {order}" in n for n in notes), notes


def test_whatsapp_mixed_shapes_nbsp_u202f_media_and_deleted() -> None:
    _, notes, recs = load(sample("whatsapp_txt/langchain_mixed_formats_whatsapp_chat.txt"))
    assert len(recs) == 10
    by_sender = {r.sender: r for r in recs}
    assert by_sender["User name 2"].timestamp == "2021-01-24T12:41:03"  # "~ User name 2", 12:41:03 PM
    assert by_sender["User 1"].timestamp in ("2023-01-23T03:22:00", "2022-07-19T23:32:00")
    assert [r.timestamp for r in recs if r.body == "Hello"] == ["2022-07-19T23:32:00"]  # 11:32 U+202F PM
    assert [r.timestamp for r in recs if r.body == "Goodbye"] == ["2022-07-20T11:32:00"]  # 11:32 U+202F am
    assert [r.timestamp for r in recs if r.body == "See you!"] == ["2023-05-04T16:13:23"]  # [2023/5/4, ...]
    media = by_sender["User 3"]
    assert media.body == "" and media.attachments == ("media not included in the export",)
    deleted = by_sender["User 4"]
    assert deleted.deleted
    doc, _, _ = load(sample("whatsapp_txt/langchain_mixed_formats_whatsapp_chat.txt"))
    shown = next(m.body for m in doc.messages if m.sender == "User 4")
    assert "DELETED" in shown
    assert any("ASSUMED day first" in n for n in notes)  # "05.05.23" alone gives no evidence


def test_whatsapp_ios_export_e2e_notice_is_a_system_line_and_media_placeholders() -> None:
    _, _, recs = load(sample("whatsapp_txt/langchain_ios_whatsapp_chat.txt"))
    assert len(recs) == 12
    assert recs[0].kind == "system" or any(r.kind == "system" and "end-to-end" in r.body for r in recs)
    assert sum(r.attachments == ("media not included in the export",) for r in recs) == 3
    assert all("\u200e" not in r.body and "\u200e" not in r.sender for r in recs)


def test_whatsapp_german_dotted_dates_and_system_lines() -> None:
    _, _, recs = load(sample("whatsapp_txt/whatstk_pokemon.txt"))
    assert (len(recs), sum(r.kind == "system" for r in recs)) == (20, 2)
    assert recs[-1].timestamp == "2016-10-31T12:23:00" and recs[-1].sender == "Wobbuffet"


@pytest.mark.parametrize("name", ["chatminer_test_single_export.json", "chatminer_test_batch_export.json"])
def test_telegram_chatminer_exports_equal_their_target(name: str) -> None:
    target = json.loads(sample("telegram_json/chatminer_target.json").read_text(encoding="utf-8"))
    _, _, recs = load(sample(f"telegram_json/{name}"))
    assert [(r.timestamp.removesuffix("+00:00"), r.sender) for r in recs] == \
        [(t["timestamp"], t["author"]) for t in target]
    assert all(r.tz == "UTC" for r in recs)
    # the fixture's text is two adjacent entity parts ("Link:" bold, then the link): nothing between them in the
    # export, while chat-miner's target inserts a space. We keep the text as exported.
    assert [r.body.replace(" ", "") for r in recs] == [t["message"].replace(" ", "") for t in target]


def test_telegram_new_and_old_exports() -> None:
    _, _, new = load(sample("telegram_json/langchain_result.json"))
    assert [r.app_id for r in new] == [f"5965280513:{i}" for i in (1, 2, 3, 4)]
    assert new[0].timestamp == "2023-08-23T20:11:23+00:00"  # date_unixtime, not the PC-local "date"
    _, notes, old = load(sample("telegram_json/langchain_telegram.json"))
    assert len(old) == 3 and all(r.tz == LOCAL_UNKNOWN for r in old)
    assert old[0].timestamp == "2020-01-01T00:00:02"
    assert any("no date_unixtime" in n for n in notes)


def test_a_json_that_is_not_a_telegram_desktop_export_is_refused_with_the_reason() -> None:
    path = sample("telegram_json/langchain_telegram_channel_NOT_tdesktop.json")
    with pytest.raises(IngestError, match="not a Telegram Desktop export"):
        load_file_with_notes(path, path.parent)


def test_ufdr_iped_chat_fixture() -> None:
    _, _, recs = load(sample("ufdr_xml/iped_ufed-model-chat.xml"))
    # 14 InstantMessage models: 11 in the chat's Messages, 3 nested (forwarded/quoted) shown inside their holder
    assert len(recs) == 11
    assert sum(r.kind == "system" for r in recs) == 1
    text = "\n".join(r.body for r in recs)
    assert "You joined the group via invite link" in text
    assert "Charmeleon" in text and "+55 11 99999-22222" in text  # a shared contact
    assert "reply to Pidgeot" in text
    first = next(r for r in recs if r.app_id == "20B2CB24BF3CBD881397130CAF870169")
    assert first.timestamp == "2024-11-03T19:46:47+00:00" and first.tz == "UTC"
    assert "PTT-20241103-WA0101.opus" in first.attachments[0] and "files\\Audio" in first.attachments[0]
    assert first.sender == "Bulbasaur (5511999997777@s.whatsapp.net)" and first.direction == "incoming"
    owner = [r for r in recs if r.sender.startswith("Clefable")]
    assert owner and all(r.direction == "outgoing" for r in owner)  # Clefable IsPhoneOwner=True
    assert all(r.thread == "5511999996666@s.whatsapp.net" for r in recs)


def test_ufdr_user_accounts_and_pa1010_labels() -> None:
    _, _, accounts = load(sample("ufdr_xml/iped_ufed-model-useraccount.xml"))
    assert [r.kind for r in accounts] == ["account", "account"]
    assert "WhatsApp Business" in accounts[0].body and "5511999997777@s.whatsapp.net" in accounts[0].body
    _, _, labelled = load(sample("ufdr_xml/iped_ufed-model-chat-pa1010-labels_SYNTHETIC.xml"))
    assert "forwarded body" in labelled[0].body and "Forwarded" in labelled[0].body


def test_ileapp_whatsapp_chatstorage_has_32_messages_and_is_not_modified(tmp_path: Path) -> None:
    with zipfile.ZipFile(sample("ios_sqlite/ileapp_testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip")) as z:
        z.extractall(tmp_path)
    db = next(tmp_path.rglob("ChatStorage.sqlite"))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in db.parent.iterdir()}
    _, notes, recs = load(db)
    assert len(recs) == 32  # 32 ZWAMESSAGE rows
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in db.parent.iterdir()} == before
    assert any("read-only and immutable" in n for n in notes)
    assert len({r.app_id for r in recs}) == 32 and all(r.app_id.startswith("3A") for r in recs)
    chat = [r for r in recs if r.thread == "This Is DFIR Two (19198887386@s.whatsapp.net)"]
    assert any(r.body == "QNAP is the way, my friend." and r.direction == "incoming" for r in chat)
    assert next(r for r in recs if r.body.startswith("Done. It")).timestamp == "2023-05-02T16:31:06+00:00"


def test_the_ileapp_zip_itself_ingests_with_its_32_messages() -> None:
    _, notes, recs = load(sample("ios_sqlite/ileapp_testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip"))
    assert len(recs) == 32 and notes[0] == "read 21 message(s), 11 system line(s)"
    assert recs[0].provenance[0].startswith("ileapp_testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip!"
                                            "filesystem2/mobile/Containers/Shared/AppGroup/")
    assert any("ChatStorage.sqlite: WhatsApp iOS (ChatStorage.sqlite)" in n for n in notes)


@pytest.mark.parametrize("name", ["langchain_imessage_chat.db", "langchain_imessage_chat_upgrade_osx_11.db"])
def test_imessage_chat_db_reads_bodies_only_in_attributed_body(name: str) -> None:
    _, _, recs = load(sample(f"ios_sqlite/{name}"))
    assert len(recs) == 23
    bodies = {r.app_id: r.body for r in recs}
    assert bodies["517F45ED-2F1A-4C1C-B101-1CC33D349C01"] == "Woaaaaaah"  # text NULL, attributedBody only
    assert bodies["E7F6B913-EEE2-47E8-9458-BDA6BDA9BE8A"] == "Yeh"
    assert "not readable" not in "".join(bodies.values())
    assert bodies["D5FB2B2E-30E4-4C1C-B96D-10C897B96A34"].startswith("(reaction)")  # a tapback row
    assert recs[0].timestamp == "2023-11-05T02:50:50+00:00"  # nanoseconds since 2001


def test_signal_desktop_text_export_reads_as_a_chat() -> None:
    _, _, recs = load(sample("signal/chatminer_signal_test_export.txt"))
    assert [(r.sender, r.body) for r in recs] == [("Jane Doe", "Hello John!"), ("John Doe", "Hello\nJane!")]
