"""Issue 14's bad-input corpus, the entries earlier tests missed: UTF-32 text (with and without a byte-order mark),
mixed encodings, e-mails whose declared charset is wrong or whose multiparts nest deeply, and XML entity expansion or
external entities in a DOCX or a phone report. Each file is ingested right or refused with a reason naming it; never
decoded into mojibake, NULs or U+FFFD. Tiny files in tmp_path, loaded by the real loaders (no index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.loaders import load_file_with_notes
from tests import bad_inputs as bad


def _load(tmp_path: Path, name: str, data: bytes) -> tuple[str, list[str]]:
    path = tmp_path / name
    path.write_bytes(data)
    doc, notes = load_file_with_notes(path, tmp_path)
    return doc.text, notes


def _refused(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        load_file_with_notes(path, tmp_path)
    assert caught.value.path == name
    return caught.value.reason


# ---------------------------------------------------------------- UTF-32


@pytest.mark.parametrize(("text", "big_endian", "bom", "note"), [
    (bad.POLISH, False, True, "decoded as utf-32 (not UTF-8)"),  # FF FE 00 00: was read as UTF-16, NUL-riddled
    (bad.POLISH, True, True, "decoded as utf-32 (not UTF-8)"),
    (bad.POLISH, False, False, "decoded as utf_32_le (not UTF-8)"),
    (bad.ARABIC, True, False, "decoded as utf_32_be (not UTF-8)"),
], ids=["le-bom", "be-bom", "le-no-bom", "be-no-bom-arabic"])
def test_utf32_text_is_decoded_exactly(tmp_path: Path, text: str, big_endian: bool, bom: bool, note: str) -> None:
    decoded, notes = _load(tmp_path, "statement.txt", bad.utf32(text, big_endian=big_endian, bom=bom))
    assert decoded == text and "\x00" not in decoded
    assert notes == [note]


def test_a_utf32_message_export_keeps_its_columns(tmp_path: Path) -> None:
    export = f"timestamp,sender,body\n2024-03-15T10:00:00,Łukasz,{bad.ARABIC}"
    path = tmp_path / "export.csv"
    path.write_bytes(bad.utf32(export))
    doc, _ = load_file_with_notes(path, tmp_path)
    assert [(m.sender, m.body) for m in doc.messages] == [("Łukasz", bad.ARABIC.strip())]


def test_binary_words_are_not_taken_for_utf32(tmp_path: Path) -> None:
    words = b"".join(n.to_bytes(4, "little") for n in range(1, 64))  # little integers: valid code points, controls
    assert "binary" in _refused(tmp_path, "counts.txt", words)


def test_a_utf16_file_whose_first_character_is_nul_is_still_utf16(tmp_path: Path) -> None:
    decoded, _ = _load(tmp_path, "odd.txt", b"\xff\xfe" + "\x00Ala ma kota.\n".encode("utf-16-le"))
    assert decoded == "\x00Ala ma kota.\n"


# ---------------------------------------------------------------- mixed encodings


def test_a_file_mixing_two_encodings_is_kept_aside_not_half_garbled(tmp_path: Path) -> None:
    reason = _refused(tmp_path, "mixed.txt", bad.mixed_encodings())
    assert "kept aside" in reason and "re-save the file as UTF-8" in reason


# ---------------------------------------------------------------- e-mail: wrong charset, nested multiparts


@pytest.mark.parametrize(("body", "declared", "found"), [
    (bad.POLISH.encode("cp1250"), "utf-8", "cp1250"),  # was read with U+FFFD for every Polish letter
    (bad.POLISH.encode("cp1250"), "iso-8859-1", "cp1250"),  # was "£ukasza Wi\x9cniewskiego": mojibake
    (bad.POLISH.encode("utf-8"), "us-ascii", "utf-8"),
    (bad.POLISH.encode("cp1250"), "x-no-such-charset", "cp1250"),
], ids=["utf8-declared", "latin1-declared", "ascii-declared", "unknown-declared"])
def test_a_wrong_declared_charset_is_detected_and_noted(tmp_path: Path, body: bytes, declared: str,
                                                        found: str) -> None:
    text, notes = _load(tmp_path, "statement.eml", bad.eml(body, declared))
    assert bad.POLISH.strip() in text and "\ufffd" not in text
    assert notes == [f"declared charset {declared!r} does not fit the part's bytes; decoded as {found}"]


def test_a_right_declared_charset_is_kept_without_a_note(tmp_path: Path) -> None:
    french = "Le témoin a déclaré qu'il a vu la voiture près de la gare vendredi.\n"
    text, notes = _load(tmp_path, "note.eml", bad.eml(french.encode("latin-1"), "iso-8859-1"))
    assert french.strip() in text and notes == []


def test_a_wrong_charset_detection_cannot_settle_is_refused(tmp_path: Path) -> None:
    reason = _refused(tmp_path, "short.eml", bad.eml("Kasia Wiśniewska".encode("cp1250"), "utf-8"))
    assert "kept aside" in reason


def test_a_wrong_charset_in_an_html_only_mail_is_detected(tmp_path: Path) -> None:
    html = f"<html><body><p>{bad.POLISH}</p></body></html>".encode("cp1250")
    text, notes = _load(tmp_path, "html.eml", bad.eml(html, "utf-8", subtype="html"))
    assert bad.POLISH.strip() in text and len(notes) == 1


def test_nested_multiparts_are_read_without_a_phantom_attachment(tmp_path: Path) -> None:
    text, notes = _load(tmp_path, "nested.eml", bad.nested_multipart_eml(40))
    assert text.endswith("The holdall was left at platform four.") and notes == []


def test_multiparts_nested_past_the_limit_are_refused_naming_the_limit(tmp_path: Path) -> None:
    """2,000 levels made the stdlib parser raise RecursionError (the reason said so); the depth scan refuses it first,
    in words a reviewer reads. The deepest message allowed is still read to its innermost text."""
    from assistant.loaders.email import MAX_MIME_DEPTH, mime_depth

    for depth in (MAX_MIME_DEPTH + 1, 2000):
        assert mime_depth(bad.nested_multipart_eml(depth)) == MAX_MIME_DEPTH + 1  # the scan stops past the limit
        reason = _refused(tmp_path, f"deep{depth}.eml", bad.nested_multipart_eml(depth))
        assert reason == (f"e-mail parts nested more than {MAX_MIME_DEPTH} levels deep (multiparts or forwarded "
                          "messages inside each other): not read")
    text, _ = _load(tmp_path, "deepest.eml", bad.nested_multipart_eml(MAX_MIME_DEPTH))
    assert text.endswith("The holdall was left at platform four.")


def test_the_depth_scan_counts_structure_not_quoted_headers() -> None:
    """A forward is two levels (its multipart and its message part); a plain body quoting a multipart header and its
    boundary lines (as 10 Enron e-mails do) is no structure at all."""
    from email.message import EmailMessage

    from assistant.loaders.email import mime_depth

    inner = EmailMessage()
    inner.set_content("innermost")
    for _ in range(3):
        outer = EmailMessage()
        outer.set_content("see below")
        outer.add_attachment(inner)
        inner = outer
    assert mime_depth(bytes(inner)) == 6
    quoted = ('Content-Type: multipart/mixed; boundary="q"\n\n--q\nContent-Type: message/rfc822\n\n'
              "From: x@example.org\n\nhello\n--q--\n")
    assert mime_depth(bad.eml(quoted.encode("ascii"), "us-ascii")) == 0
    assert mime_depth(bad.nested_multipart_eml(7)) == 7


def test_an_encoded_forward_nested_past_the_limit_is_refused(tmp_path: Path) -> None:
    """A message/rfc822 part sent base64-encoded hides its structure from the scan of the outer message: the decoded
    message is scanned before it is parsed."""
    import base64

    hidden = base64.encodebytes(bad.nested_multipart_eml(300)).decode("ascii")
    outer = ('From: a@example.org\nTo: b@example.org\nSubject: fwd\nMIME-Version: 1.0\n'
             'Content-Type: multipart/mixed; boundary="out"\n\n--out\nContent-Type: text/plain\n\nsee attached\n'
             f"--out\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{hidden}--out--\n")
    assert "nested more than" in _refused(tmp_path, "encoded.eml", outer.encode("ascii"))


def test_a_recursion_the_scan_missed_gets_the_same_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the scan under-count (an RFC 2231 boundary*=, a digest's implicit message parts), the parser's
    RecursionError is reported with the same reason, never as a bare exception name."""
    import sys

    from assistant.loaders import email as email_loader

    monkeypatch.setattr(email_loader, "mime_depth", lambda data, limit=0: 0)
    frames, frame = 0, sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(frames + 120)  # reached by 150 levels: fast, and pytest's own frames stay
    try:
        with pytest.raises(IngestError) as caught:
            email_loader.load_email(bad.nested_multipart_eml(150), "deep.eml", "0" * 64)
    finally:
        sys.setrecursionlimit(limit)
    assert "nested more than" in caught.value.reason and "Recursion" not in caught.value.reason


# ---------------------------------------------------------------- XML entities: DOCX and phone reports


@pytest.mark.parametrize(("document_dtd", "core_dtd", "part"), [
    (bad.LAUGHS, "", "word/document.xml"),
    (bad.EXTERNAL, "", "word/document.xml"),  # was ingested with the entity silently dropped
    ('<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;', "", "word/document.xml"),
    ("", bad.LAUGHS, "docProps/core.xml"),
], ids=["laughs", "external", "parameter-entity", "laughs-in-core"])
def test_a_docx_declaring_entities_is_refused_unparsed(tmp_path: Path, document_dtd: str, core_dtd: str,
                                                       part: str) -> None:
    paragraphs = ["&a9;" if "a9" in document_dtd else "&x;" if "x SYSTEM" in document_dtd else "plain",
                  "The courier left at ten."]
    reason = _refused(tmp_path, "hostile.docx", bad.docx(paragraphs, document_dtd=document_dtd, core_dtd=core_dtd))
    assert reason.startswith(f"DOCX part {part} declares a DTD")


def test_a_plain_docx_from_the_same_builder_loads(tmp_path: Path) -> None:
    text, _ = _load(tmp_path, "plain.docx", bad.docx(["The courier left at ten.", "He came back at noon."]))
    assert text == "The courier left at ten.\nHe came back at noon."


@pytest.mark.parametrize(("name", "wrap"), [("laughs.xml", False), ("laughs.ufdr", True)])
def test_a_phone_report_expanding_entities_is_refused(tmp_path: Path, name: str, wrap: bool) -> None:
    report = bad.pa_report(bad.LAUGHS, "&a9;")
    reason = _refused(tmp_path, name, bad.ufdr(report) if wrap else report)
    assert reason.startswith("not well-formed XML") and "amplification" in reason


def test_a_phone_report_with_an_external_entity_never_reads_it(tmp_path: Path) -> None:
    reason = _refused(tmp_path, "xxe.ufdr", bad.ufdr(bad.pa_report(bad.EXTERNAL, "&x;")))
    assert reason.startswith("not well-formed XML") and "undefined entity" in reason


# ---------------------------------------------------------------- control characters in names


def test_control_characters_in_a_name_reach_the_terminal_escaped(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI's text report prints the source name a real refusal carries; a terminal escape in it stays inert."""
    from assistant.cli.main import _print_ingest_report
    from assistant.ingest.pipeline import IngestReport
    from assistant.loaders import read_source

    name = "clear\x1b[2Jscreen\x9b.txt"
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(IngestError) as caught:
        read_source(tmp_path / name, tmp_path)
    assert caught.value.path == name  # the index and the JSON report keep the name as it is
    _print_ingest_report(IngestReport(case="names", failed=[(caught.value.path, caught.value.reason)]))
    err = capsys.readouterr().err
    assert "skipped: clear\\x1b[2Jscreen\\x9b.txt: empty file (0 bytes)" in err
    assert "\x1b" not in err and "\x9b" not in err


def test_control_characters_in_a_name_reach_the_terminal_escaped_in_json_too(tmp_path: Path) -> None:
    """`ingest --json` printed C1 controls (CSI 0x9b) and format characters raw: json.dumps escapes C0 only. Now
    every non-printable character is a JSON escape, and the report decodes to the very same name. (The real CLI
    ingest of this folder takes minutes on a busy machine; its --json branch prints exactly terminal_json(report).)"""
    import json

    from assistant.cli.terminal import terminal_json
    from assistant.ingest.pipeline import IngestReport
    from assistant.loaders import read_source

    name = "clear\x1b[2Jscreen\x9b\u202etxt.exe.txt"
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(IngestError) as caught:
        read_source(tmp_path / name, tmp_path)
    report = IngestReport(case="names", failed=[(caught.value.path, caught.value.reason)])
    out = terminal_json(report.to_json())
    assert "\\u009b" in out and "\\u001b" in out and "\\u202e" in out
    assert not any(c != "\n" and not c.isprintable() for c in out)
    assert json.loads(out) == report.to_json() and report.to_json()["failed"][0]["source"] == name
    raw = json.dumps(report.to_json(), ensure_ascii=False)
    assert "\x9b" in raw and "\u202e" in raw  # what the report printed before
