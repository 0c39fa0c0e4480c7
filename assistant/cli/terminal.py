"""What the command line prints of evidence (file names, reasons, notes) reaches a terminal inert: a control character
in a name (ESC, CSI 0x9b, a bidi override) prints escaped, in the text reports and in the JSON ones alike."""

from __future__ import annotations

import json


def shown(text: str) -> str:
    """`text` with every non-printable character written as its Python escape (\\x1b, \\x9b, \\t, \\u202e)."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def terminal_json(payload: object, indent: int | None = 2) -> str:
    """`payload` as JSON (non-ASCII letters kept as they are) with every non-printable character inside a string
    written as a JSON escape: json.dumps escapes only C0 controls, so C1 controls (0x80-0x9F) and format characters
    would reach the terminal raw. The output decodes to the very same values."""
    text = json.dumps(payload, ensure_ascii=False, indent=indent)
    return "".join(c if c.isprintable() or c == "\n" else json.dumps(c)[1:-1] for c in text)
