"""Every loader on a real small file of its type (made in tmp_path), and every error a reviewer can act on."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from assistant.errors import IngestError
from assistant.loaders import SUPPORTED_SUFFIXES, discover, load_file, load_file_with_notes, unsupported_reason
from assistant.loaders.pdf import NO_TEXT_LAYER, PAGE_SEPARATOR


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return write(path, bytes(pdf.output()))


def reason_of(path: Path, root: Path) -> str:
    with pytest.raises(IngestError) as info:
        load_file(path, root)
    assert info.value.path == path.relative_to(root).as_posix()
    return info.value.reason


# ---------------------------------------------------------------- discover


def test_discover_walks_folders_skips_hidden_and_returns_unsupported(tmp_path: Path) -> None:
    case = tmp_path / "case"
    write(case / "b.txt", "b")
    write(case / "sub" / "a.pdf", "x")
    write(case / ".hidden.txt", "h")
    write(case / ".git" / "c.txt", "c")
    write(case / "sheet.xlsx", "x")
    single = write(tmp_path / "other" / "note.md", "n")
    found, unsupported = discover([case, single, tmp_path / "missing"])
    assert found == [(case / "b.txt", case), (case / "sub" / "a.pdf", case), (single, single.parent)]
    assert unsupported == sorted([case / "sheet.xlsx", tmp_path / "missing"])
    assert "unsupported file type '.xlsx'" in unsupported_reason(case / "sheet.xlsx")
    assert unsupported_reason(tmp_path / "missing") == "no such file or folder"


def test_discover_deduplicates_a_file_named_twice(tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", "a")
    found, _ = discover([tmp_path, f])
    assert found == [(f, tmp_path)]
    assert {".txt", ".md", ".pdf", ".docx", ".eml", ".csv", ".jsonl",  # + seized-phone formats (loaders.phone)
            ".json", ".ufdr", ".xml", ".db", ".sqlite", ".sqlite3", ".zip",
            ".html", ".htm",  # Telegram Desktop HTML exports
            ".png", ".jpg", ".jpeg", ".tif", ".tiff"} == SUPPORTED_SUFFIXES  # + scans (loaders.ocr)


# ---------------------------------------------------------------- text


def test_text_keeps_text_exactly_but_crlf(tmp_path: Path) -> None:
    raw = "Statement of J. Smith\r\n\r\n  Indented line\twith tab.\r\nLast line"
    path = write(tmp_path / "sub" / "s.txt", raw)
    doc = load_file(path, tmp_path)
    assert doc.source == "sub/s.txt"
    assert doc.kind == "text"
    assert doc.text == raw.replace("\r\n", "\n")
    assert doc.sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert doc.pages == () and doc.messages == ()


def test_text_form_feeds_are_pages(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path / "p.txt", "one\ntwo\fthree\f\ffour"), tmp_path)
    assert [doc.text[s:e] for _, s, e in doc.pages] == ["one\ntwo", "three", "", "four"]
    assert [n for n, _, _ in doc.pages] == [1, 2, 3, 4]


def test_markdown_title_is_first_heading(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path / "r.md", "intro\n\n## Interview notes ##\ntext"), tmp_path)
    assert doc.title == "Interview notes"
    assert doc.text == "intro\n\n## Interview notes ##\ntext"


def test_cp1252_text_is_decoded_and_noted(tmp_path: Path) -> None:
    path = write(tmp_path / "old.txt", "Caf\u00e9 receipt \u00a35 \u2013 paid".encode("cp1252"))
    doc, notes = load_file_with_notes(path, tmp_path)
    assert doc.text == "Caf\u00e9 receipt \u00a35 \u2013 paid"
    assert notes == ["decoded as cp1252 (not UTF-8)"]


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path / "bom.txt", b"\xef\xbb\xbfhello"), tmp_path)
    assert doc.text == "hello"


def test_bad_encoding_names_the_byte_and_the_unsure_guess(tmp_path: Path) -> None:
    reason = reason_of(write(tmp_path / "bad.txt", b"abc \x81\x8d def"), tmp_path)
    assert "not UTF-8" in reason and "0x81" in reason and "kept aside" in reason and "confidence" in reason


@pytest.mark.parametrize("name", ["e.txt", "e.pdf", "e.docx", "e.eml", "e.csv", "e.jsonl"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    assert reason_of(write(tmp_path / name, b""), tmp_path) == "empty file (0 bytes)"


def test_whitespace_only_text_is_empty(tmp_path: Path) -> None:
    assert "empty file" in reason_of(write(tmp_path / "w.txt", " \n\n\t"), tmp_path)


def test_unsupported_suffix_is_not_read(tmp_path: Path) -> None:
    reason = reason_of(write(tmp_path / "a.xlsx", "looks like text"), tmp_path)
    assert reason.startswith("unsupported file type '.xlsx'")


# ---------------------------------------------------------------- pdf


def test_pdf_pages_and_spans(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "r.pdf", [["Page one first line", "Page one second line"], ["Second page text"]])
    doc = load_file(path, tmp_path)
    assert doc.kind == "pdf"
    assert [n for n, _, _ in doc.pages] == [1, 2]
    page1, page2 = (doc.text[s:e] for _, s, e in doc.pages)
    assert page1.split("\n") == ["Page one first line", "Page one second line"]
    assert page2 == "Second page text"
    assert doc.text == page1 + PAGE_SEPARATOR + page2


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    assert reason_of(write(tmp_path / "scan.pdf", bytes(pdf.output())), tmp_path) == NO_TEXT_LAYER


def test_pdf_with_one_scanned_page_loads_with_a_note(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.cell(0, 8, "Typed page")
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    doc, notes = load_file_with_notes(write(tmp_path / "mixed.pdf", bytes(pdf.output())), tmp_path)
    assert len(doc.pages) == 2 and "Typed page" in doc.text
    assert notes and "pages 2" in notes[0]


@pytest.mark.parametrize("data", [b"%PDF-1.4\n" + bytes(range(256)) * 4, b"this is not a pdf at all"])
def test_corrupt_pdf(tmp_path: Path, data: bytes) -> None:
    assert reason_of(write(tmp_path / "bad.pdf", data), tmp_path).startswith("unreadable PDF")


def test_truncated_pdf(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "g.pdf", [["Some text"]]).read_bytes()
    assert reason_of(write(tmp_path / "cut.pdf", good[: len(good) // 3]), tmp_path).startswith("unreadable PDF")


# ---------------------------------------------------------------- docx


def test_docx_paragraphs_and_table_rows_in_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Witness statement"
    document.add_paragraph("First paragraph.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Name", "Role"), ("Ann", "Witness")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("After the table.")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = load_file(write(tmp_path / "w.docx", buffer.getvalue()), tmp_path)
    assert doc.kind == "docx" and doc.title == "Witness statement"
    assert doc.text == "First paragraph.\nName | Role\nAnn | Witness\nAfter the table."


@pytest.mark.parametrize("kind", ["random", "zip_without_document"])
def test_broken_docx(tmp_path: Path, kind: str) -> None:
    if kind == "random":
        data = b"\xd0\xcf\x11\xe0 old binary word file"
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("hello.txt", "not a docx")
        data = buffer.getvalue()
    assert reason_of(write(tmp_path / "b.docx", data), tmp_path).startswith("not a valid DOCX")


# ---------------------------------------------------------------- e-mail


def _email(subject: str = "Meeting at the depot") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.org>"
    msg["To"] = "bob@example.org"
    msg["Date"] = "Tue, 07 Mar 2023 10:15:00 +0000"
    msg["Subject"] = subject
    return msg


def test_email_plain_with_attachment(tmp_path: Path) -> None:
    msg = _email()
    msg.set_content("Bring the keys.\nSee you at 9.\n")
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="photo.png")
    doc, notes = load_file_with_notes(write(tmp_path / "m.eml", msg.as_bytes()), tmp_path)
    assert doc.kind == "email" and doc.title == "Meeting at the depot"
    assert doc.text == ("From: Ann <ann@example.org>\nTo: bob@example.org\nDate: Tue, 07 Mar 2023 10:15:00 +0000\n"
                        "Subject: Meeting at the depot\n\nBring the keys.\nSee you at 9.")
    assert notes == ["1 attachment(s) not ingested (ingest them as separate files)"]


def test_email_html_only_is_stripped(tmp_path: Path) -> None:
    msg = _email()
    msg.set_content("<html><head><style>p{color:red}</style></head><body><p>Hello &amp; welcome</p>"
                    "<script>alert(1)</script><div>Second <b>line</b></div></body></html>", subtype="html")
    doc = load_file(write(tmp_path / "h.eml", msg.as_bytes()), tmp_path)
    body = doc.text.split("\n\n", 1)[1]
    assert body == "Hello & welcome\n\nSecond line"


def test_email_without_text_part(tmp_path: Path) -> None:
    msg = _email()
    msg.make_mixed()
    msg.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="photo.png")
    assert "no text part" in reason_of(write(tmp_path / "img.eml", msg.as_bytes()), tmp_path)


# ---------------------------------------------------------------- messages


def test_csv_messages_ids_threads_order_and_skips(tmp_path: Path) -> None:
    csv_text = (
        "Timestamp,Sender,Recipient,Body,Translation,Language,Device\r\n"
        "2023-03-01 10:05,Bob,Ann,vale,ok,es,Phone A\r\n"
        "2023-03-01 10:00,Ann,Bob,hola,hello,es,Phone A\r\n"
        "2023-03-01 10:02,Ann,Cat,\"two\nlines\",,,Phone A\r\n"
        "2023-03-01 10:03,Ann,Cat,,,,Phone A\r\n"
    )
    doc, notes = load_file_with_notes(write(tmp_path / "x" / "chat.csv", csv_text), tmp_path)
    assert doc.kind == "messages" and doc.text == "" and doc.source == "x/chat.csv"
    assert [(m.message_id, m.thread_id) for m in doc.messages] == [("m2", "Ann~Bob"), ("m1", "Ann~Bob"),
                                                                   ("m3", "Ann~Cat")]
    first = doc.messages[0]
    assert (first.body, first.translation, first.english, first.language, first.device) == (
        "hola", "hello", "hello", "es", "Phone A")
    assert doc.messages[2].body == "two\nlines"
    assert notes == ["skipped rows: 1 empty body"]


def test_csv_missing_body_column_is_named(tmp_path: Path) -> None:
    reason = reason_of(write(tmp_path / "m.csv", "timestamp,sender,text\n2023-01-01,Ann,hi\n"), tmp_path)
    assert "missing required column(s): body" in reason and "found: sender, text, timestamp" in reason


def test_csv_all_rows_invalid(tmp_path: Path) -> None:
    reason = reason_of(write(tmp_path / "m.csv", "timestamp,sender,body\n2023-01-01,Ann,\n,Bob,hi\n"), tmp_path)
    assert reason == "no usable message rows (1 empty body, 1 empty timestamp)"


def test_csv_semicolon_and_day_first_timestamps(tmp_path: Path) -> None:
    text = "timestamp;sender;body\n02/03/2023 09:00;Ann;later\n01/03/2023 18:30:05;Ann;earlier\n"
    doc, notes = load_file_with_notes(write(tmp_path / "eu.csv", text), tmp_path)
    assert [(m.timestamp, m.body, m.thread_id) for m in doc.messages] == [
        ("2023-03-01T18:30:05", "earlier", "eu"), ("2023-03-02T09:00:00", "later", "eu")]
    assert "2 day-first timestamp(s) rewritten as ISO 8601" in notes


def test_jsonl_messages(tmp_path: Path) -> None:
    lines = [
        json.dumps({"message_id": "x1", "thread_id": "t9", "timestamp": "2023-03-01T10:00:00Z",
                    "sender": "+447700900001", "body": "Donde?", "translation": "Where?", "language": "es"}),
        "{not json",
        "",
        json.dumps({"message_id": "x1", "thread_id": "t9", "timestamp": "2023-03-01T09:00:00+00:00",
                    "sender": "+447700900002", "body": 42}),
    ]
    doc, notes = load_file_with_notes(write(tmp_path / "p.jsonl", "\n".join(lines)), tmp_path)
    assert [(m.message_id, m.body) for m in doc.messages] == [("x1#2", "42"), ("x1", "Donde?")]
    assert doc.messages[1].english == "Where?"
    assert "1 duplicate message_id(s) made unique with a #n suffix" in notes
    assert "skipped rows: 1 invalid JSON lines" in notes


def test_jsonl_missing_required_keys(tmp_path: Path) -> None:
    reason = reason_of(write(tmp_path / "p.jsonl", json.dumps({"timestamp": "2023", "body": "x"})), tmp_path)
    assert "missing required column(s): sender" in reason


@pytest.mark.parametrize("hidden", [
    '<div style="display:none">SECRET</div>', '<div style="visibility: hidden">SECRET</div>',
    '<span style="font-size:0px">SECRET</span>', '<p hidden>SECRET</p>', '<span style="opacity:0">SECRET</span>',
    '<div style="max-height:0;overflow:hidden">SECRET</div>', '<div class="promo x">SECRET</div>',
    '<span id="Tail">SECRET</span>',
])
def test_html_email_hidden_text_is_dropped_and_counted(hidden: str) -> None:
    from assistant.loaders.html_text import html_visible_text

    html = (f"<html><head><style>.x {{ display: none }} #tail{{font-size:0}}</style></head><body><p>Meet at ten."
            f"{hidden}</p><p>Bring the van.</p></body></html>")
    text, (elements, chars) = html_visible_text(html)
    assert text == "Meet at ten.\n\nBring the van."
    assert elements == 1 and chars == len("SECRET")


def test_html_email_visible_styles_are_kept() -> None:
    from assistant.loaders.html_text import html_visible_text

    text, dropped = html_visible_text('<p style="display:block;font-size:10px">Shown</p><p>Also<p>here')
    assert text == "Shown\n\nAlso\nhere" and dropped == (0, 0)
