"""The text of an iMessage `attributedBody`: an NSAttributedString archived with Apple's typedstream.

Only the string is needed. In the archive the NSString class name is followed by the marker bytes 0x01 0x94 0x84
0x01 0x2B ('+'), then a length (one byte; 0x81 + 2 bytes little-endian; 0x82 + 4 bytes) and the UTF-8 bytes.
Returns None when the blob does not have that shape, so the caller can report the message as unreadable instead
of guessing.
"""

from __future__ import annotations

_CLASS = b"NSString"
_MARK = b"\x84\x01+"


def attributed_text(blob: bytes | None) -> str | None:
    if not blob:
        return None
    start = blob.find(_CLASS)
    if start < 0:
        return None
    mark = blob.find(_MARK, start + len(_CLASS))
    if mark < 0:
        return None
    pos = mark + len(_MARK)
    if pos >= len(blob):
        return None
    first = blob[pos]
    if first == 0x81:
        length, pos = int.from_bytes(blob[pos + 1:pos + 3], "little"), pos + 3
    elif first == 0x82:
        length, pos = int.from_bytes(blob[pos + 1:pos + 5], "little"), pos + 5
    else:
        length, pos = first, pos + 1
    raw = blob[pos:pos + length]
    if len(raw) != length:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
