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


_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                        "wbr"})
_IMPLIED_END = {"p": _BLOCK_TAGS, "li": frozenset({"li"}), "td": frozenset({"td", "tr"}), "tr": frozenset({"tr"})}
# CSS that hides an element from a reader while its text stays in the HTML (a classic way to smuggle text to a model)
_HIDDEN_CSS = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)|"
    r"opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|(?:max-)?height\s*:\s*0(?:px)?\s*(?:;|$|!)[^\"]*overflow\s*:\s*hidden",
    re.IGNORECASE)


_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^[a-z0-9]*([.#])([\w-]+)$", re.IGNORECASE)


def hidden_selectors(css: str) -> set[str]:
    """`.class` and `#id` names (as ".x" / "#x") that a <style> block hides; compound selectors are left alone."""
    found: set[str] = set()
    for selectors, body in _CSS_RULE.findall(css):
        if _HIDDEN_CSS.search(body.strip() + ";"):
            for selector in selectors.split(","):
                simple = _SIMPLE_SELECTOR.match(selector.strip())
                if simple:
                    found.add(simple.group(1) + simple.group(2).lower())
    return found


def _hides(attrs: list[tuple[str, str | None]], hidden_css: set[str]) -> bool:
    found = dict(attrs)
    if "hidden" in found or _HIDDEN_CSS.search(found.get("style") or ""):
        return True
    names = {"." + c.lower() for c in (found.get("class") or "").split()}
    if found.get("id"):
        names.add("#" + str(found["id"]).lower())
    return bool(names & hidden_css)


class _HtmlText(HTMLParser):
    """Visible text of an HTML body; block elements become line breaks. Text inside an element hidden by the
    `hidden` attribute, by inline CSS (display:none, visibility:hidden, font-size:0, opacity:0, zero height with
    overflow hidden) or by a <style> rule on its class or id is dropped and counted, never ingested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._open: list[tuple[str, bool]] = []  # (tag, hides) of the open elements
        self.hidden_elements = 0
        self.hidden_chars = 0
        self._hidden_css: set[str] = set()  # ".class"/"#id" hidden by a <style> block seen so far
        self._in_style = False

    def _hidden(self) -> bool:
        return any(h for _, h in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        while self._open and tag in _IMPLIED_END.get(self._open[-1][0], frozenset()):
            self._open.pop()  # <p>one<p>two: the first p ends where the second starts
        hides = _hides(attrs, self._hidden_css)
        self._in_style = tag == "style"
        if tag not in _VOID_TAGS:
            self._open.append((tag, hides))
            if hides:
                self.hidden_elements += 1
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif self._hidden():
            return
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        hidden = self._hidden()
        if any(t == tag for t, _ in self._open):
            while self._open and self._open.pop()[0] != tag:
                pass
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS and not hidden:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._hidden_css |= hidden_selectors(data)
        if self._skip:
            return
        if self._hidden():
            self.hidden_chars += len(data.strip())
            return
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Strip tags, scripts, styles and hidden elements; one line per block, at most one blank line in a row."""
    return html_visible_text(html)[0]


def html_visible_text(html: str) -> tuple[str, tuple[int, int]]:
    """(visible text, (hidden elements, hidden characters dropped))."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip(), (parser.hidden_elements, parser.hidden_chars)


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
    body, (hidden_elements, hidden_chars) = _body(msg, source)
    if not body.strip():
        raise IngestError(source, "e-mail has no text part (no text/plain or text/html body)")
    block = "".join(f"{name}: {value}\n" for name, value in headers.items() if value)
    text = f"{block}\n{body}"
    attachments = sum(1 for _ in msg.iter_attachments())
    notes = [f"{attachments} attachment(s) not ingested (ingest them as separate files)"] if attachments else []
    if hidden_chars:
        notes.append(f"hidden HTML dropped: {hidden_elements} hidden element(s), {hidden_chars} character(s) of text a "
                     "reader does not see (display:none, visibility:hidden, font-size:0, hidden attribute...)")
        log.info("email hidden_html_dropped elements=%d chars=%d", hidden_elements, hidden_chars)
    log.debug("email loaded chars=%d attachments=%d", len(text), attachments)
    return Document(source=source, kind="email", text=text, sha256=sha256, title=headers["Subject"]), notes


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the body
        value = ""
    return re.sub(r"\s*\n\s*", " ", str(value or "")).strip()


def _body(msg: EmailMessage, source: str) -> tuple[str, tuple[int, int]]:
    """The text/plain body, else the visible text of the HTML body; with (hidden elements, characters) dropped."""
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return normalize_newlines(_content(part, source)).strip("\n"), (0, 0)
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        return html_visible_text(normalize_newlines(_content(part, source)))
    return "", (0, 0)


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
