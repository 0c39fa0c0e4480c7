"""Charset detection of text, CSV and e-mail parts: cp1250 Polish, cp1256 Arabic, UTF-16 without a BOM, Latin-1.
A decode we are not sure of is reported and the file kept aside, never ingested as mojibake."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import PiiSettings
from assistant.errors import IngestError
from assistant.loaders import load_file_with_notes
from assistant.loaders.encoding import MIN_CONFIDENCE, detect
from assistant.pii.tagger import PiiTagger

POLISH_NOTE = ("Statement of Łukasz Wiśniewski, taken at Northgate police station on 15/03/2024.\n"
               "I live at 12 Station Road with my sister.\n")
ARABIC = "قال الشاهد إنه رأى السيارة بالقرب من المحطة يوم الجمعة."
RECEIPT = "Receipt: café, £5.50, 20°C, ½ price, paid by Zoë"
FRENCH = "Le témoin a déclaré qu'il a vu la voiture près de la gare vendredi, très ému."


def test_cp1250_polish_name_is_decoded_and_pii_tagged(tmp_path: Path) -> None:
    path = tmp_path / "statement.txt"
    path.write_bytes(POLISH_NOTE.encode("cp1250"))
    doc, notes = load_file_with_notes(path, tmp_path)
    assert doc.text == POLISH_NOTE  # not "£ukasz Wiœniewski"
    assert notes == ["decoded as cp1250 (not UTF-8)"]
    people = [e.text for e in PiiTagger(PiiSettings()).tag(doc.text) if e.type == "PERSON"]
    assert "Łukasz Wiśniewski" in people


@pytest.mark.parametrize(("text", "encoding"), [(ARABIC, "cp1256"), (RECEIPT, "latin-1"), (POLISH_NOTE, "cp1250"),
                                                (ARABIC, "utf-16-le"), (POLISH_NOTE, "utf-16-be")])
def test_detection_recovers_the_text(text: str, encoding: str) -> None:
    found = detect(text.encode(encoding))
    assert found.text == text and found.confidence >= MIN_CONFIDENCE, found


def test_utf16_message_export_without_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"timestamp,sender,body\n2024-03-15T10:00:00,Łukasz,{ARABIC}\n".encode("utf-16-le"))
    doc, notes = load_file_with_notes(path, tmp_path)
    assert doc.messages[0].sender == "Łukasz" and doc.messages[0].body == ARABIC
    assert notes[0] == "decoded as utf_16_le (not UTF-8)"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1250", "iso8859-2"])
def test_a_truly_ambiguous_text_is_never_decoded_wrongly(encoding: str) -> None:
    """French "près" in Latin-1 reads as "prčs" in cp1250, a plausible Czech letter: the detector may keep such a
    file aside, but must never be confident in the wrong text."""
    text = FRENCH if encoding == "latin-1" else "Kasia Wiśniewska i Łukasz"
    found = detect(text.encode(encoding))
    assert found.text == text or found.confidence < MIN_CONFIDENCE, found


def test_an_unsure_decode_is_kept_aside_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes("Kasia Wiśniewska".encode("cp1250"))  # "Wiœniewska" in cp1252: both read as names
    with pytest.raises(IngestError, match="kept aside") as caught:
        load_file_with_notes(path, tmp_path)
    assert "best guess" in caught.value.reason and "confidence" in caught.value.reason


def test_an_email_part_without_charset_is_detected(tmp_path: Path) -> None:
    raw = ("From: officer@example.org\nTo: team@example.org\nSubject: note\nMIME-Version: 1.0\n"
           "Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n").encode("ascii") + \
        POLISH_NOTE.encode("cp1250")
    path = tmp_path / "note.eml"
    path.write_bytes(raw)
    doc, _ = load_file_with_notes(path, tmp_path)
    assert "Łukasz Wiśniewski" in doc.text
