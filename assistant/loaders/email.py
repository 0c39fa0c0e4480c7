"""E-mail (.eml) loader, stdlib `email` with policy=default.

Text = a header block ("From: …\\nTo: …\\nCc: …\\nDate: …\\nSubject: …\\n\\n", absent headers left out) followed by
the text/plain body, or the HTML body reduced to text when there is no plain part. Attachments are not read; the
notes say how many there were."""

from __future__ import annotations

import logging
import re
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html.parser import HTMLParser

from assistant.errors import IngestError
from assistant.loaders.text import normalize_newlines
from assistant.types import Document

log = logging.getLogger(__name__)

HEADERS = ("From", "To", "Cc", "Date", "Subject")
_BLOCK_TAGS = frozenset({"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                         "blockquote", "pre", "hr", "section", "article", "header", "footer"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})


class _HtmlText(HTMLParser):
    """Visible text of an HTML body; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Strip tags, scripts and styles; keep one line per block and at most one blank line in a row."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def load_email(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """Load one RFC 5322 message. Raises IngestError when it has no text/plain or text/html part."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:  # the parser is lenient; this is for truly broken input
        raise IngestError(source, f"unreadable e-mail ({type(exc).__name__}: {exc})") from exc
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always builds EmailMessage
        raise IngestError(source, "unreadable e-mail")
    headers = {name: _header(msg, name) for name in HEADERS}
    if not any(headers.values()):
        raise IngestError(source, "not an e-mail: no From, To, Date or Subject header")
    body = _body(msg, source)
    if not body.strip():
        raise IngestError(source, "e-mail has no text part (no text/plain or text/html body)")
    block = "".join(f"{name}: {value}\n" for name, value in headers.items() if value)
    text = f"{block}\n{body}"
    attachments = sum(1 for _ in msg.iter_attachments())
    notes = [f"{attachments} attachment(s) not ingested (ingest them as separate files)"] if attachments else []
    log.debug("email loaded chars=%d attachments=%d", len(text), attachments)
    return Document(source=source, kind="email", text=text, sha256=sha256, title=headers["Subject"]), notes


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the body
        value = ""
    return re.sub(r"\s*\n\s*", " ", str(value or "")).strip()


def _body(msg: EmailMessage, source: str) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return normalize_newlines(_content(part, source)).strip("\n")
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(normalize_newlines(_content(part, source)))
    return ""


def _content(part: Message, source: str) -> str:
    payload = part.get_payload(decode=True)
    if part.get_content_charset() is None and isinstance(payload, bytes) and not payload.isascii():
        from assistant.loaders.text import decode_text  # 8-bit text with no declared charset: detect it

        return decode_text(payload, source)[0]
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError):  # unknown or wrong charset: detect it; kept aside when unsure
        from assistant.loaders.text import decode_text

        content = decode_text(payload, source)[0] if isinstance(payload, bytes) else ""
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return str(content)
