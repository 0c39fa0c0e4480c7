"""Telegram Desktop HTML export (`messages.html`, `messages2.html`, ...): one chat, its messages as `div.message`.

Read with the standard library's HTML tokenizer (no script runs, nothing is fetched). Per message:
- `div.message.default` with `id="messageN"` is a message, N the app's id; `div.message.service` is a system line
  (the day separators, which only repeat the date, are skipped);
- time from the `title` of `div.date.details`, "23.08.2023 13:11:23 UTC-08:00": converted to UTC with the offset
  kept in `tz`; a title without offset (older exports) is kept as local time, zone unknown;
- sender from `div.from_name`; a `joined` message (the same sender again) has none, so the previous sender carries
  forward; a forwarded message's inner `from_name` becomes "forwarded from ...";
- body from `div.text` (`<br>` kept as a line break); media from `a.*_wrap` links and `div.media` titles.
The chat's name comes from the page header. Direction is not stated in the HTML export and is left empty.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

from assistant.loaders.phone.records import LOCAL_UNKNOWN, PhoneRecord, offset_note, utc_iso

_TITLE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: UTC([+-])(\d{2}):(\d{2}))?")
_VOID = frozenset({"br", "img", "meta", "link", "hr", "input", "wbr", "source", "area", "base", "col", "embed",
                   "param", "track"})
_MEDIA_LINKS = ("photo_wrap", "video_file_wrap", "media_voice_message", "media_file", "animated_wrap",
                "media_video", "media_audio_file", "sticker_wrap", "media_photo", "media_contact")


def looks_like_export(head: str) -> bool:
    """A Telegram Desktop chat page: the page body class and at least one message div near the top."""
    return "page_body chat_page" in head and 'class="message ' in head


def parse_time(title: str) -> tuple[str, str]:
    """(timestamp, tz) from a date title; ("", "") when it cannot be read."""
    m = _TITLE.search(title)
    if not m:
        return "", ""
    day, month, year, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return "", ""
    if m.group(7) is None:
        return moment.isoformat(), LOCAL_UNKNOWN
    sign = 1 if m.group(7) == "+" else -1
    offset = timedelta(hours=int(m.group(8)), minutes=int(m.group(9))) * sign
    stamped = moment.replace(tzinfo=timezone(offset))
    return utc_iso(stamped), offset_note(stamped)


@dataclass
class _Message:
    msg_id: str
    service: bool
    joined: bool
    title: str = ""
    sender: str = ""
    forwarded_from: str = ""
    text: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


class _ExportParser(HTMLParser):
    """Collects the header name and one `_Message` per message div; tracks which div a text run belongs to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chat_name: list[str] = []
        self.messages: list[_Message] = []
        self._stack: list[tuple[str, frozenset[str]]] = []
        self._current: _Message | None = None
        self._message_depth = -1
        self._capture: str = ""  # "header" | "from" | "forwarded" | "text" | "body" | ""
        self._capture_depth = -1

    def _classes(self) -> set[str]:
        return {c for _, classes in self._stack for c in classes}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = frozenset(values.get("class", "").split())
        if tag == "br":
            if self._capture:
                self._sink().append("\n")
            return
        if tag in _VOID:
            return
        self._stack.append((tag, classes))
        depth = len(self._stack)
        if tag == "div" and "message" in classes and self._current is None:
            self._current = _Message(msg_id=values.get("id", "").removeprefix("message"),
                                     service="service" in classes, joined="joined" in classes)
            self._message_depth = depth
            return
        message = self._current
        if message is None:
            if tag == "div" and "text" in classes and "page_header" in self._classes() and not self._capture:
                self._start("header", depth)
            return
        if "date" in classes and "details" in classes and values.get("title") and not message.title:
            message.title = values["title"]
        elif tag == "div" and "from_name" in classes and not self._capture:
            inside_forward = "forwarded" in self._classes() - classes
            self._start("forwarded" if inside_forward else "from", depth)
        elif tag == "div" and "text" in classes and not self._capture:
            self._start("text", depth)
        elif tag == "div" and message.service and "body" in classes and not self._capture:
            self._start("body", depth)
        elif tag == "a" and classes & set(_MEDIA_LINKS) and values.get("href"):
            message.media.append(values["href"])
        elif tag == "div" and "media" in classes and values.get("title"):
            message.media.append(values["title"])

    def _start(self, what: str, depth: int) -> None:
        self._capture, self._capture_depth = what, depth

    def _sink(self) -> list[str]:
        message = self._current
        if self._capture == "header" or message is None:
            return self.chat_name
        if self._capture in ("text", "body"):
            return message.text
        return _SenderSink(message, forwarded=self._capture == "forwarded")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._stack:
            return
        while self._stack:  # tolerate unclosed inner tags: pop to the matching one
            open_tag, _ = self._stack.pop()
            depth = len(self._stack) + 1
            if depth == self._capture_depth:
                self._capture, self._capture_depth = "", -1
            if depth == self._message_depth and self._current is not None:
                self.messages.append(self._current)
                self._current, self._message_depth = None, -1
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._sink().append(data)


class _SenderSink(list[str]):
    """Appending to it writes the sender (or the forwarded-from name) of the message."""

    def __init__(self, message: _Message, forwarded: bool) -> None:
        super().__init__()
        self._message, self._forwarded = message, forwarded

    def append(self, part: str) -> None:
        if self._forwarded:
            self._message.forwarded_from += part
        else:
            self._message.sender += part


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _is_day_separator(text: str) -> bool:
    return bool(re.fullmatch(r"\d{1,2} \w+ \d{4}", text))


def parse_export(html: str, source: str) -> tuple[list[PhoneRecord], list[str]]:
    parser = _ExportParser()
    parser.feed(html)
    parser.close()
    chat = _clean("".join(parser.chat_name)) or "Telegram chat"
    records: list[PhoneRecord] = []
    previous_sender = ""
    skipped = Counter[str]()
    for n, message in enumerate(parser.messages, start=1):
        body = _clean("".join(message.text))
        if message.service and (not body or _is_day_separator(body)):
            skipped["day separator"] += 1
            continue
        sender = _clean(message.sender) or (previous_sender if message.joined else "")
        if not message.service:
            previous_sender = sender
        forwarded = _clean(message.forwarded_from)
        if forwarded and not message.service:
            body = f"(forwarded from {forwarded}) {body}".strip()
        timestamp, tz = parse_time(message.title)
        if not timestamp:
            skipped["no readable time"] += 1
        record_id = message.msg_id or f"n{n}"
        records.append(PhoneRecord(
            kind="system" if message.service else "message", record_id=record_id, thread=chat,
            timestamp=timestamp, tz=tz, body=body or ("(media only)" if message.media else ""),
            sender=sender, app_id=message.msg_id, source_app="Telegram", attachments=tuple(message.media),
            provenance=(f"{source}#message {record_id}",)))
    kinds = Counter(r.kind for r in records)
    notes = [f"Telegram HTML export: chat {chat!r}, {kinds['message']} message(s), {kinds['system']} service "
             "message(s); direction is not stated in HTML exports"]
    local = sum(1 for r in records if r.tz == LOCAL_UNKNOWN)
    if local:
        notes.append(f"{local} message(s) have no UTC offset in their title: local time, zone unknown")
    if skipped["no readable time"]:
        notes.append(f"{skipped['no readable time']} message(s) without a readable time")
    return records, notes
