"""What makes two messages of different sources the same message, as hashes (the table never stores bodies).

- id key: source app + thread + the app's own message id (a UFDR and the msgstore.db of the same phone);
- text keys: source app + sender + minute + normalised body, for exports without ids (a WhatsApp .txt and a UFDR
  of the same chat). A sender is known under several names ("Kira Lane (+447700900418)" in a UFDR, "Kira Lane" or
  "+44 7700 900418" in a .txt), so one text key is made per alias; the minute is the source's local wall clock
  (a UTC time with a stated source offset is moved back to it), since text exports show the phone's own clock.

Two messages that share a key are merged only when their content (normalised body, attachment names, deleted flag)
is the same too; otherwise both are kept and the pair is reported as a conflict. A message with an app id never
matches another message with an app id through a text key (two "ok"s in one minute are two messages)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from assistant.loaders.phone.records import PhoneRecord, record_of
from assistant.types import Message

_LABEL = re.compile(r"^(?P<a>.*?)\s*\((?:saved as\s+)?(?P<b>[^()]*)\)\s*$", re.IGNORECASE)
_NUMBERISH = re.compile(r"^[+\d][\d\s().\-]{5,}$")
_OFFSET = re.compile(r"source offset ([+-])(\d\d):(\d\d)")
NUMBER_DIGITS = 9  # national and international forms of one number agree on their last 9 digits (UK, most of EU)


@dataclass(frozen=True)
class MessageKeys:
    message_id: str  # the message's id inside its document (Message.message_id)
    id_key: bytes | None
    text_keys: tuple[bytes, ...]
    content: bytes
    provenance: tuple[str, ...]

    @property
    def has_id(self) -> bool:
        return self.id_key is not None


def _digest(*parts: str) -> bytes:
    return hashlib.blake2b("\0".join(parts).encode("utf-8"), digest_size=16).digest()


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def sender_aliases(sender: str) -> tuple[str, ...]:
    """The names a sender label stands for: 'Name (number)' and 'number (saved as Name)' give both; a phone number
    is reduced to its last digits so '+44 7700 900418' and '07700 900418' agree."""
    label = normalise(sender)
    match = _LABEL.match(label)
    names = [match.group("a"), match.group("b")] if match else [label]
    out = []
    for name in names:
        name = name.strip()
        if _NUMBERISH.match(name):
            name = "#" + re.sub(r"\D", "", name)[-NUMBER_DIGITS:]
        if name and name not in out:
            out.append(name)
    return tuple(out)


def local_minute(record: PhoneRecord) -> str:
    """YYYY-MM-DDTHH:MM on the source's own clock ("" when the record has no time)."""
    stamp = record.timestamp
    offset = _OFFSET.search(record.tz or "")
    if offset and stamp:
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            return stamp[:16]
        sign = 1 if offset.group(1) == "+" else -1
        moment = moment + sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        return moment.replace(tzinfo=None).isoformat()[:16]
    return stamp[:16]


def content_of(record: PhoneRecord) -> bytes:
    names = sorted(a.rsplit("/", 1)[-1].casefold() for a in record.attachments)
    return _digest(normalise(record.body), "|".join(names), "deleted" if record.deleted else "")


def keys_of(message: Message) -> MessageKeys | None:
    """The keys of a seized-phone message (None for calls, contacts, system lines and CSV/JSONL rows)."""
    record = record_of(message.phone)
    if record is None or record.kind != "message":
        return None
    app = normalise(record.source_app)
    id_key = _digest("id", app, normalise(record.thread), record.app_id) if record.app_id else None
    minute, body = local_minute(record), normalise(record.body)
    text_keys: tuple[bytes, ...] = ()
    if minute and body:
        text_keys = tuple(_digest("text", app, alias, minute, body) for alias in sender_aliases(record.sender))
    if id_key is None and not text_keys:
        return None
    return MessageKeys(message.message_id, id_key, text_keys, content_of(record), record.provenance)
