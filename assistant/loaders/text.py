"""Plain text and Markdown loader, plus the text-decoding helpers shared by the other loaders.

Offsets must stay exact, so the only change made to the text is CRLF/CR -> LF. A form feed (\\f) is a page break:
`pages` then holds one (page_number, start, end) span per page, the form feeds themselves excluded.
"""

from __future__ import annotations

import re

from assistant.errors import IngestError
from assistant.types import Document

_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes (see loaders.encoding: BOM, UTF-8, UTF-16 without BOM, then the most plausible code page).

    Returns (text, encoding). Raises IngestError when the bytes are binary or no decoding is confident enough: the
    file is then kept aside and reported, never ingested as mojibake."""
    from assistant.loaders.encoding import MIN_CONFIDENCE, detect

    found = detect(data)
    if found.encoding == "binary":
        raise IngestError(source, "binary content (NUL bytes): not a text file, or UTF-16 without a byte-order mark")
    if found.confidence < MIN_CONFIDENCE:
        where = ""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f" (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        raise IngestError(source, f"bad encoding: not UTF-8{where}; best guess {found.encoding} with confidence "
                                  f"{found.confidence:.2f} < {MIN_CONFIDENCE} ({found.note}): kept aside rather than "
                                  "ingested as possibly garbled text; re-save the file as UTF-8")
    return found.text, found.encoding


def encoding_note(encoding: str) -> list[str]:
    """The note a loader adds when a file was not UTF-8."""
    return [] if encoding in ("utf-8", "utf-8-sig") else [f"decoded as {encoding} (not UTF-8)"]


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
    notes = encoding_note(encoding)
    title = ""
    if markdown:
        heading = _MD_HEADING.search(text)
        title = heading.group(1) if heading else ""
    doc = Document(source=source, kind="text", text=text, sha256=sha256, pages=form_feed_pages(text), title=title)
    return doc, notes
