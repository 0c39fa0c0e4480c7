"""E-mail (.eml) loader, stdlib `email` with policy=default.

Text = a header block ("From: …\\nTo: …\\nCc: …\\nDate: …\\nSubject: …\\n\\n", absent headers left out) followed by
the text/plain body, or the HTML body reduced to visible text (assistant.loaders.html_text) when there is no plain
part. A forwarded message (a `message/rfc822` part) follows as a marked section of the same text:

    ---- Forwarded message ----
    From: …
    Date: …
    Subject: …

    its body

read exactly like the outer message (charsets, hidden HTML dropped and noted), its own forwards after it as
"---- Forwarded message (level 2) ----" and so on, down to MAX_FORWARD_DEPTH levels; a message nested deeper is not
read and the notes say so. Other attachments are not read; the notes say how many there were.

An e-mail whose parts nest deeper than MAX_MIME_DEPTH (multiparts inside multiparts, messages inside messages) is
refused before the stdlib parser, which recurses once per level, ever sees it."""

from __future__ import annotations

import base64
import binascii
import logging
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from assistant.errors import IngestError
from assistant.loaders.html_text import html_visible_text
from assistant.loaders.text import normalize_newlines
from assistant.types import Document

log = logging.getLogger(__name__)

HEADERS = ("From", "To", "Cc", "Date", "Subject")
# Forwards read inside forwards, at most. A bound on work and text for hostile nesting (tests build 60 levels), not a
# tuned value: a real chain of forwards-as-attachments rarely goes past two or three (the Enron set in
# shared/datasets has no message/rfc822 part at all: its forwards are quoted inline, read as body text).
MAX_FORWARD_DEPTH = 8
# MIME containers (a multipart, a message/* part) nested inside each other, at most. The stdlib parser recurses once per
# level: it raised RecursionError from 971 levels on at Python's default limit of 1,000 frames (called from a shallow
# stack; the ingest child calls it deeper), after 2.4 s of work at 1,000 levels. Real mail nests far less: 0 levels in
# all 1,702 Enron e-mails (shared/datasets, via eval_data; their "Content-Type: multipart" lines are quoted text), at
# most 3 in CPython's e-mail test corpus (Lib/test/test_email/data, 48 messages); 60 forwards-as-attachments (the
# deepest chain the tests read, each a multipart holding a message part) make 121. 200 lies between both.
MAX_MIME_DEPTH = 200
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))', re.IGNORECASE)


@dataclass
class _Reading:
    """What reading one e-mail (with its forwards) found besides text."""

    attachments: int = 0
    forwards: int = 0
    too_deep: int = 0
    hidden_elements: int = 0
    hidden_chars: int = 0
    charsets: list[str] = field(default_factory=list)  # parts whose declared charset did not fit (notes)


def load_email(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """Load one RFC 5322 message. Raises IngestError when neither it nor a message it forwards has a text part, or
    when its parts nest deeper than MAX_MIME_DEPTH."""
    try:
        return _load(data, source, sha256)
    except RecursionError:  # a structure the depth scan could not see (it reads no encoded part): same reason
        raise IngestError(source, _TOO_DEEP) from None


_TOO_DEEP = (f"e-mail parts nested more than {MAX_MIME_DEPTH} levels deep (multiparts or forwarded messages inside "
             "each other): not read")


def _parse(data: bytes, source: str) -> EmailMessage:
    if mime_depth(data) > MAX_MIME_DEPTH:
        raise IngestError(source, _TOO_DEEP)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except RecursionError:
        raise
    except Exception as exc:  # the parser is lenient; this is for truly broken input
        raise IngestError(source, f"unreadable e-mail ({type(exc).__name__}: {exc})") from exc
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always builds EmailMessage
        raise IngestError(source, "unreadable e-mail")
    return msg


def mime_depth(data: bytes, limit: int = MAX_MIME_DEPTH) -> int:
    """How deep the MIME containers of `data` nest (each multipart and message/* part counts one), from a line scan
    of its header blocks and boundary lines, without recursion; the count stops once past `limit`."""
    around: list[bytes | None] = []  # the boundary of each enclosing multipart; None for an enclosing message part
    open_: dict[bytes, int] = {}  # boundary -> how many enclosing multiparts use it (a line is checked in O(1))
    deepest, in_headers, content_type, header = 0, True, b"", b""
    for line in data.splitlines():
        if in_headers:
            if line[:1] in (b" ", b"\t") and line.strip():  # a folded header line
                content_type += line if header == b"content-type" else b""
                continue
            name, colon, value = line.partition(b":")
            if colon and name.strip():
                header = name.strip().lower()
                content_type = value if header == b"content-type" else content_type
                continue
            kind = content_type.split(b";")[0].strip().lower()  # the block ended (a blank or non-header line)
            found = _BOUNDARY.search(content_type) if kind.startswith(b"multipart/") else None
            boundary = (found.group(1) or found.group(2)) if found else None
            in_headers, content_type, header = kind.startswith(b"message/"), b"", b""  # a message's headers follow
            if boundary or in_headers:
                around.append(boundary)
                open_[boundary or b""] = open_.get(boundary or b"", 0) + 1
                deepest = max(deepest, len(around))
                if deepest > limit:
                    return deepest
            continue
        token = line.rstrip(b" \t")[2:] if line.startswith(b"--") else b""
        closing = token.endswith(b"--") and token[:-2] in open_
        if not token or not (closing or token in open_):
            continue
        boundary = token[:-2] if closing else token
        keep = max(i for i, b in enumerate(around) if b == boundary) + (0 if closing else 1)
        for gone in around[keep:]:  # a part's end closes everything opened inside it
            open_[gone or b""] -= 1
        open_ = {b: n for b, n in open_.items() if n}
        del around[keep:]
        in_headers = not closing  # a delimiter line starts the next part's headers
    return deepest


def _load(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    msg = _parse(data, source)
    headers = {name: _header(msg, name) for name in HEADERS}
    if not any(headers.values()):
        raise IngestError(source, "not an e-mail: no From, To, Date or Subject header")
    reading = _Reading()
    body = _body(msg, source, reading)
    forwarded = _forwarded(msg, source, reading, depth=1)
    if not body.strip() and not forwarded:
        raise IngestError(source, "e-mail has no text part (no text/plain or text/html body)")
    text = f"{_header_block(headers)}\n{body}{forwarded}"
    notes = _notes(reading)
    log.debug("email loaded chars=%d attachments=%d forwards=%d", len(text), reading.attachments, reading.forwards)
    return Document(source=source, kind="email", text=text, sha256=sha256, title=headers["Subject"]), notes


def _notes(reading: _Reading) -> list[str]:
    notes = []
    if reading.attachments:
        notes.append(f"{reading.attachments} attachment(s) not ingested (ingest them as separate files)")
    if reading.forwards:
        notes.append(f"{reading.forwards} forwarded message(s) read into the text, each after a "
                     "'---- Forwarded message' line")
    if reading.too_deep:
        notes.append(f"{reading.too_deep} forwarded message(s) nested deeper than {MAX_FORWARD_DEPTH} levels not "
                     "read (nor anything inside them)")
    notes.extend(dict.fromkeys(reading.charsets))
    if reading.hidden_chars:
        notes.append(f"hidden HTML dropped: {reading.hidden_elements} hidden element(s), {reading.hidden_chars} "
                     "character(s) of text a reader does not see (display:none, visibility:hidden, font-size:0, "
                     "hidden attribute...)")
        log.info("email hidden_html_dropped elements=%d chars=%d", reading.hidden_elements, reading.hidden_chars)
    return notes


def _header_block(headers: dict[str, str]) -> str:
    return "".join(f"{name}: {value}\n" for name, value in headers.items() if value)


def _forwarded(msg: EmailMessage, source: str, reading: _Reading, depth: int) -> str:
    """The marked sections of the messages `msg` forwards (and theirs, depth first); counts its other attachments."""
    sections: list[str] = []
    used = msg.get_body(preferencelist=("plain",)) or msg.get_body(preferencelist=("html",))
    for part in msg.iter_attachments():
        inner = _attached_message(part, source)
        if inner is None:  # a nested multipart holding the body is no attachment: count the parts left unread
            reading.attachments += sum(1 for leaf in part.walk() if not leaf.is_multipart() and leaf is not used)
            continue
        if depth > MAX_FORWARD_DEPTH:
            reading.too_deep += 1
            continue
        reading.forwards += 1
        level = f" (level {depth})" if depth > 1 else ""
        block = _header_block({name: _header(inner, name) for name in HEADERS})
        body = _body(inner, source, reading) or "(no text)"
        sections.append(f"\n\n---- Forwarded message{level} ----\n{block}\n{body}")
        sections.append(_forwarded(inner, source, reading, depth + 1))
    return "".join(sections)


def _attached_message(part: Message, source: str) -> EmailMessage | None:
    """The message inside a `message/rfc822` part; None for any other part."""
    if part.get_content_type() != "message/rfc822":
        return None
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable") and isinstance(inner, Message) and not inner.keys():
        # sent encoded (RFC 2046 forbids it, some clients do it): the parser saw the encoded text as a body
        encoded = inner.get_payload()
        if not isinstance(encoded, str):
            return None
        try:
            raw = (base64.b64decode(encoded, validate=False) if encoding == "base64"
                   else quopri.decodestring(encoded.encode("ascii")))
        except (binascii.Error, UnicodeError):
            return None
        inner = _parse(raw, source)
    return inner if isinstance(inner, EmailMessage) else None


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the body
        value = ""
    return re.sub(r"\s*\n\s*", " ", str(value or "")).strip()


def _body(msg: EmailMessage, source: str, reading: _Reading) -> str:
    """The text/plain body, else the visible text of the HTML body (hidden elements counted in `reading`)."""
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return normalize_newlines(_content(part, source, reading)).strip("\n")
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        text, (elements, chars) = html_visible_text(normalize_newlines(_content(part, source, reading)))
        reading.hidden_elements += elements
        reading.hidden_chars += chars
        return text
    return ""


def _content(part: Message, source: str, reading: _Reading) -> str:
    """The part's text, decoded strictly: by its declared charset when that fits the bytes, else detected (an
    IngestError keeps the e-mail aside when detection is unsure); never U+FFFD replacements or mojibake."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = part.get_content_charset()
    if declared is None and payload.isascii():
        return payload.decode("ascii")
    text = None if declared is None else _declared_text(payload, declared)
    if text is not None:
        return text
    from assistant.loaders.text import decode_text  # no charset, or one that does not fit: detect it

    text, encoding = decode_text(payload, source)
    if declared is not None:
        reading.charsets.append(f"declared charset {declared!r} does not fit the part's bytes; decoded as {encoding}")
    return text


def _declared_text(payload: bytes, charset: str) -> str | None:
    """The payload decoded by its declared charset; None when the charset is unknown, does not decode the bytes
    strictly, or is a single-byte page whose text shows another page's bytes (C1 controls, which no text holds, or
    a low plausibility where detection is sure of a different text)."""
    from assistant.loaders.encoding import MIN_CONFIDENCE, detect, text_confidence

    try:
        text = payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None
    if charset.replace("_", "-").startswith(("utf-", "us-ascii", "ascii")) or text.isascii():
        return text
    if any("\x80" <= c <= "\x9f" for c in text):
        return None
    if text_confidence(text) < MIN_CONFIDENCE:
        found = detect(payload)
        if found.confidence >= MIN_CONFIDENCE and found.text != text:
            return None
    return text
