"""Telegram Desktop HTML exports: the public sample and a page we build in the documented shape (PHONE_FORMATS.md
section 4: the date title with its UTC offset, `joined` messages without a sender, service lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.loaders import discover, load_file_with_notes
from assistant.loaders.phone.records import LOCAL_UNKNOWN, PhoneRecord, record_of
from tests.phone_samples import sample


def records(path: Path) -> tuple[list[PhoneRecord], list[str]]:
    doc, notes = load_file_with_notes(path, path.parent)
    found = [record_of(m.phone) for m in doc.messages]
    return [r for r in found if r is not None], notes


def test_public_sample_reads_every_message_with_utc_time_and_carried_sender() -> None:
    recs, notes = records(sample("telegram_json/langchain_telegram_desktop_messages.html"))
    assert [r.body for r in recs] == ["i refuse to converse with you", "Hi nemesis", "we meet again",
                                      "you will not trick me this time"]
    assert [r.sender for r in recs] == ["Jimmeny Marvelton", "Batman & Robin", "Jimmeny Marvelton",
                                        "Jimmeny Marvelton"]  # the last is a `joined` message: sender carried
    assert recs[0].timestamp == "2023-08-23T21:11:23+00:00"  # 13:11:23 at UTC-08:00
    assert recs[0].tz == "source offset -08:00"
    assert {r.thread for r in recs} == {"Jimmeny Marvelton"}
    assert any("Telegram HTML export" in n and "4 message(s)" in n for n in notes)


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"/><title>Exported Data</title></head><body>
<div class="page_wrap"><div class="page_header"><div class="content">
<div class="text bold">Depot group</div></div></div>
<div class="page_body chat_page"><div class="history">
<div class="message service" id="message-1"><div class="body details">2 March 2024</div></div>
<div class="message service" id="message10"><div class="body details">Ola Brandt invited Tom Reyes</div></div>
<div class="message default clearfix" id="message11"><div class="body">
 <div class="pull_right date details" title="02.03.2024 09:00:05 UTC+01:00">09:00</div>
 <div class="from_name">Ola Brandt</div>
 <div class="text">first line<br>second &amp; last line</div></div></div>
<div class="message default clearfix joined" id="message12"><div class="body">
 <div class="pull_right date details" title="02.03.2024 09:01:00 UTC+01:00">09:01</div>
 <div class="media_wrap clearfix"><a class="photo_wrap clearfix pull_left" href="photos/photo_1.jpg">
 <img class="photo" src="photos/photo_1_thumb.jpg"></a></div>
</div></div>
<div class="message default clearfix" id="message13"><div class="body">
 <div class="pull_right date details" title="02.03.2024 09:02:00">09:02</div>
 <div class="from_name">Tom Reyes</div>
 <div class="forwarded body"><div class="from_name">Dock office <span class="details">01.03.2024</span></div>
 <div class="text">gate code changes monday</div></div></div></div>
</div></div></div></body></html>"""


def test_built_page_service_lines_media_forwarded_and_local_times(tmp_path: Path) -> None:
    path = tmp_path / "messages.html"
    path.write_text(PAGE, encoding="utf-8")
    recs, notes = records(path)
    by_id = {r.record_id: r for r in recs}
    assert set(by_id) == {"10", "11", "12", "13"}  # the day separator is not a record
    assert by_id["10"].kind == "system" and by_id["10"].body == "Ola Brandt invited Tom Reyes"
    assert by_id["11"].body == "first line\nsecond & last line"
    assert by_id["11"].timestamp == "2024-03-02T08:00:05+00:00"
    assert by_id["12"].sender == "Ola Brandt" and by_id["12"].attachments == ("photos/photo_1.jpg",)
    assert by_id["13"].sender == "Tom Reyes"
    assert by_id["13"].body.startswith("(forwarded from Dock office") and "gate code" in by_id["13"].body
    assert by_id["13"].tz == LOCAL_UNKNOWN and by_id["13"].timestamp == "2024-03-02T09:02:00"
    assert any("zone unknown" in n for n in notes)


def test_html_that_is_not_a_telegram_export_is_refused_with_the_reason(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Meeting notes</p></body></html>", encoding="utf-8")
    with pytest.raises(IngestError, match="not a Telegram Desktop chat export"):
        load_file_with_notes(page, tmp_path)
    latin = tmp_path / "latin.htm"
    latin.write_bytes(PAGE.replace("Ola", "\xd3la").encode("cp1252"))
    with pytest.raises(IngestError, match="not UTF-8"):
        load_file_with_notes(latin, tmp_path)
    found, refused = discover([tmp_path])
    assert {p.name for p, _ in found} >= {"page.html", "latin.htm"} and not refused
