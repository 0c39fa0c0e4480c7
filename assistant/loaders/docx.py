"""DOCX loader (python-docx). Body paragraphs and tables in document order, one line each; a table row becomes
one line with its cells joined by " | " (merged cells once). Headers, footers, comments and images are not read."""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

from assistant.errors import IngestError
from assistant.loaders.text import normalize_newlines
from assistant.types import Document

log = logging.getLogger(__name__)

CELL_SEPARATOR = " | "


def load_docx(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """Load a Word document. Raises IngestError for a non-zip, corrupt or text-less file."""
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(source, "not a valid DOCX: not a zip archive (corrupt, or an old binary .doc renamed?)")
    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_body_lines(document))
        title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx / lxml / zipfile raise many types on malformed input
        raise IngestError(source, f"not a valid DOCX ({type(exc).__name__}: {exc})") from exc
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(source, "DOCX contains no text")
    log.debug("docx loaded lines=%d chars=%d", len(lines), len(text))
    return Document(source=source, kind="docx", text=text, sha256=sha256, title=title), []


def _body_lines(document: Any) -> Any:
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield from _table_lines(block)
        else:
            yield _one_line(block.text)


def _table_lines(table: Any) -> Any:
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:  # a merged cell is repeated by python-docx
                continue
            previous = cell._tc
            cells.append(_one_line(cell.text).strip())
        if any(cells):
            yield CELL_SEPARATOR.join(cells)


def _one_line(text: str) -> str:
    # Soft line breaks inside a paragraph or cell would split one paragraph over several "lines".
    return normalize_newlines(text).replace("\n", " ")
