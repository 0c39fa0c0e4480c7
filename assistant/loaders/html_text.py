"""Visible text of an HTML body (e-mail bodies): tags, scripts and styles stripped, block elements as line breaks,
and text a reader does not see (hidden by attribute, inline CSS or a <style> rule) dropped and counted."""

from __future__ import annotations

import re
from html.parser import HTMLParser

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


def html_visible_text(html: str) -> tuple[str, tuple[int, int]]:
    """(visible text, (hidden elements, hidden characters dropped))."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip(), (parser.hidden_elements, parser.hidden_chars)
