"""Plain text and Markdown loader, plus the text-decoding helpers shared by the other loaders.

Offsets must stay exact, so the only change made to the text is CRLF/CR -> LF. A form feed (\\f) is a page break:
`pages` then holds one (page_number, start, end) span per page, the form feeds themselves excluded.
"""

from __future__ import annotations

import codecs
import re

from assistant.errors import IngestError
from assistant.types import Document

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes as UTF-8 (BOM or not), UTF-16 with a BOM, or cp1252, in that order.

    Returns (text, encoding). Raises IngestError naming every encoding that failed and where.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise IngestError(source, f"bad encoding: has a UTF-16 byte-order mark but is not valid UTF-16 "
                                      f"({exc.reason} at byte {exc.start})") from exc
    if b"\x00" in data:
        raise IngestError(source, "binary content (NUL bytes): not a text file, or UTF-16 without a byte-order mark")
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as utf8_exc:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as cp_exc:
            raise IngestError(
                source,
                f"bad encoding: not UTF-8 (invalid byte 0x{data[utf8_exc.start]:02x} at offset {utf8_exc.start}) "
                f"and not cp1252 (undefined byte 0x{data[cp_exc.start]:02x} at offset {cp_exc.start}); "
                "re-save the file as UTF-8",
            ) from cp_exc


def form_feed_pages(text: str) -> tuple[tuple[int, int, int], ...]:
    """(page_number, start, end) spans between form feeds; () when the text has none."""
    if "\f" not in text:
        return ()
    pages: list[tuple[int, int, int]] = []
    start = 0
    for number, part in enumerate(text.split("\f"), start=1):
        pages.append((number, start, start + len(part)))
        start += len(part) + 1
    return tuple(pages)


def load_text(data: bytes, source: str, sha256: str, *, markdown: bool = False) -> tuple[Document, list[str]]:
    """Load a .txt or .md file. Returns the document and notes for the user (e.g. a fallback encoding)."""
    text, encoding = decode_text(data, source)
    text = normalize_newlines(text)
    if not text.strip():
        raise IngestError(source, "empty file (only whitespace)")
    notes = [f"decoded as {encoding} (not UTF-8)"] if encoding in ("cp1252", "utf-16") else []
    title = ""
    if markdown:
        heading = _MD_HEADING.search(text)
        title = heading.group(1) if heading else ""
    doc = Document(source=source, kind="text", text=text, sha256=sha256, pages=form_feed_pages(text), title=title)
    return doc, notes
