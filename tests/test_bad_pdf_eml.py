"""Hostile PDFs and e-mails (issue 14's bad-input corpus): each costs at most itself, is ingested or refused with a
reason naming it, and never takes the good file in the same batch with it. Built in tmp_path; real pipeline."""

from __future__ import annotations

import io
import zlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from assistant.app import App
from assistant.config import load_settings
from assistant.loaders.email import MAX_FORWARD_DEPTH

pypdf = pytest.importorskip("pypdf")


def _text_pdf(text: str, **encrypt: str) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 72 700 Td ({text}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    if encrypt:
        writer.encrypt(**encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank_pages(n: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(n):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _xref_loop() -> bytes:
    """A PDF whose trailer's /Prev points back at its own cross-reference table."""
    body = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n")
    xref_at = len(body)
    xref = (b"xref\n0 3\n0000000000 65535 f \n" + b"%010d 00000 n \n" % 9 + b"%010d 00000 n \n" % 58)
    trailer = b"trailer << /Size 3 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (xref_at, xref_at)
    return body + xref + trailer


def _stream_bomb(mb: int) -> bytes:
    """One page whose content stream inflates from a few hundred KB to `mb` MB of zeros."""
    packed = zlib.compress(b"\0" * (mb << 20), 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref_at)
    return bytes(out)


def _nested_eml(depth: int) -> bytes:
    inner = EmailMessage()
    inner["Subject"] = "innermost"
    inner.set_content("The holdall was left at platform four.")
    for level in range(depth):
        outer = EmailMessage()
        outer["Subject"] = f"level {level}"
        outer.set_content("see below")
        outer.add_attachment(inner)  # message/rfc822 part: a forwarded message inside a forwarded message
        inner = outer
    inner["From"] = "a@example.org"
    inner["To"] = "b@example.org"
    return bytes(inner)


def test_hostile_pdfs_and_emails_cost_only_themselves(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "good.txt").write_text("DC Hollis seized the grey handset at 09:40.\n", encoding="utf-8")
    (folder / "owner_only.pdf").write_bytes(_text_pdf("The van was blue.", user_password="", owner_password="o"))
    (folder / "user_password.pdf").write_bytes(_text_pdf("Locked text.", user_password="u", owner_password="o"))
    (folder / "xref_loop.pdf").write_bytes(_xref_loop())
    (folder / "ten_thousand_blank.pdf").write_bytes(_blank_pages(10_000))
    (folder / "stream_bomb.pdf").write_bytes(_stream_bomb(256))
    (folder / "forwarded.eml").write_bytes(_nested_eml(3))
    (folder / "deep_nesting.eml").write_bytes(_nested_eml(60))
    settings = load_settings(index_dir=tmp_path / "idx", ingest={"parse_timeout_s": 300, "parse_memory_mb": 2048})
    app: Any = App(settings)
    report = app.ingest([folder], "bad", progress=False)
    failed = dict(report.failed)
    names = {p.name for p in folder.iterdir()}
    assert set(report.ingested) | set(failed) | set(report.unchanged) == names  # every input accounted for
    assert all(reason.strip() for reason in failed.values())
    assert "good.txt" in report.ingested and "owner_only.pdf" in report.ingested
    assert "password" in failed["user_password.pdf"]
    assert "ten_thousand_blank.pdf" in failed  # no text anywhere: refused with its reason, not an empty document
    hits = app.retrieve("bad", "What colour was the van?", top_k=3)
    assert any("van was blue" in p.text for p in hits)
    # forwarded and deeply nested messages are read into the text (tests/test_email_forwarded.py), the 60-deep one to
    # the depth limit, with a note for the rest
    assert {"forwarded.eml", "deep_nesting.eml"} <= set(report.ingested)
    notes = set(report.notes)
    assert ("forwarded.eml", "3 forwarded message(s) read into the text, each after a '---- Forwarded message' "
            "line") in notes
    assert ("deep_nesting.eml", f"1 forwarded message(s) nested deeper than {MAX_FORWARD_DEPTH} levels not read "
            "(nor anything inside them)") in notes
    assert {"stream_bomb.pdf", "xref_loop.pdf"} <= set(failed)  # refused with the parser's reason, never a crash
