"""PDF loader (pypdf text layer; pages without one are OCR'd, see loaders.ocr). Pages are joined with
PAGE_SEPARATOR and `pages` records each page's span, so a chunk can be located as "p. N, lines a–b"."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

from assistant.errors import IngestError
from assistant.loaders.text import normalize_newlines
from assistant.types import Document

if TYPE_CHECKING:
    from assistant.loaders.ocr import OcrPage

log = logging.getLogger(__name__)

PAGE_SEPARATOR = "\n\f\n"
NO_TEXT_LAYER = "no text layer and no page OCR could read (scanned? without Tesseract: scripts/install_ocr.sh)"


def load_pdf(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """Extract the text layer page by page. Raises IngestError for corrupt, encrypted or image-only PDFs."""
    from pypdf import PdfReader

    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError(source, "unreadable PDF: the file does not start with a PDF header (corrupt or misnamed?)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(source, "encrypted PDF: a password is required (decrypt it and ingest the copy)")
        page_texts = [_page_text(page.extract_text()) for page in reader.pages]
        title = _title(reader)
        page_texts, ocred = _ocr_empty_pages(reader.pages, page_texts, source)
    except IngestError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed input; none may abort a batch
        raise IngestError(source, f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not page_texts:
        raise IngestError(source, "PDF has no pages")
    if not any(t.strip() for t in page_texts):
        raise IngestError(source, NO_TEXT_LAYER)

    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, page_text in enumerate(page_texts, start=1):
        pages.append((number, offset, offset + len(page_text)))
        offset += len(page_text) + len(PAGE_SEPARATOR)
    text = PAGE_SEPARATOR.join(page_texts)
    empty = [n for n, t in enumerate(page_texts, start=1) if not t.strip()]
    notes = [f"{len(empty)} of {len(page_texts)} pages have no text layer (scanned?): pages "
             + ", ".join(str(n) for n in empty[:20]) + (" …" if len(empty) > 20 else "")] if empty else []
    from assistant.loaders.ocr import ocr_notes

    notes.extend(ocr_notes(ocred))
    log.debug("pdf loaded pages=%d empty_pages=%d chars=%d", len(page_texts), len(empty), len(text))
    return Document(source=source, kind="pdf", text=text, sha256=sha256, pages=tuple(pages), title=title,
                    ocr_pages=tuple((n, round(r.confidence, 1)) for n, r in ocred)), notes


def _ocr_empty_pages(pages: Any, texts: list[str], source: str) -> tuple[list[str], list[tuple[int, OcrPage]]]:
    """Pages without a text layer are scans: their largest image is OCR'd when Tesseract is installed."""
    from assistant.loaders import ocr

    if all(t.strip() for t in texts) or not ocr.available():
        return texts, []
    done: list[tuple[int, OcrPage]] = []
    out = list(texts)
    for number, (page, text) in enumerate(zip(pages, texts, strict=True), start=1):
        if text.strip():
            continue
        result = ocr.ocr_pdf_page(page, number, source)
        if result is not None and result.text.strip():
            out[number - 1] = _page_text(f"{ocr.header(number, result)}\n{result.text}")
            done.append((number, result))
    return out, done


def _page_text(raw: str | None) -> str:
    # Form feeds are our page separator, so they cannot appear inside a page.
    return normalize_newlines(raw or "").replace("\f", "\n")


def _title(reader: object) -> str:
    meta = getattr(reader, "metadata", None)
    title = getattr(meta, "title", None) if meta is not None else None
    return str(title).strip() if title else ""
