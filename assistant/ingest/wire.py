"""What goes over the pipe between the ingest and its parse worker (issue 14): data only, never pickle.

The worker parses hostile files; if one subverted it, a pickled reply would run code in the parent. So every frame is
an 8-byte length, that many bytes of UTF-8 JSON, an 8-byte length and that many raw bytes (the file's contents in a
request, nothing in a reply). Our own types are written field by field and read back with every field's type
checked: a reply that is not exactly a document, a list of notes or an error is `Malformed`, and so is one whose
length is over the cap (a worker limited to M MB of address space cannot have built a reply larger than that
honestly: a larger length is garbage, and reading it would cost the parent the memory the limit protects).

request `SourceFile` (or None: stop); reply {"kind": "ok"|"error"|"memory"|"crash", "payload": ..., "peak_kb": int}
where an "ok" payload is {"document": {...}, "notes": [str, ...], "message_frames": n} and any other payload is a
string. A document's messages follow in n frames of at most `ROWS_PER_FRAME` rows each, so neither side ever holds the
whole document a second time as JSON (a 1 GB phone report is a million messages: bench_ingest_memory.py)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import IO, Any

from assistant.loaders import SourceFile
from assistant.types import Document, Message

HEADER = struct.Struct("<Q")
KINDS = ("ok", "error", "memory", "crash")
DOC_KINDS = ("text", "pdf", "docx", "email", "messages")
_MESSAGE_FIELDS = tuple(f.name for f in fields(Message))
# rows per message frame (not tuned): a generated PA XML report has ~1 KB of XML per message (48.2 MB, 50,345), so a
# frame is a few MB; with it the parent's parse-stage slope is 1.57 MB per MB, the Document alone
# (bench_ingest_memory.py --until parse, docs/scale.md)
ROWS_PER_FRAME = 2048
_ROW = (str,) * len(_MESSAGE_FIELDS)


class Malformed(ValueError):
    """A frame that is not what the format says (the reason, never the frame's bytes)."""


def frame(meta: Any, blob: bytes = b"") -> bytes:
    head = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(head)) + head + HEADER.pack(len(blob)) + blob


def encode_request(read: SourceFile | None) -> bytes:
    if read is None:
        return frame(None)
    meta = {"path": str(read.path), "source": read.source, "suffix": read.suffix, "sha256": read.sha256,
            "has_data": read.data is not None}
    return frame(meta, read.data or b"")


def decode_request(meta: Any, blob: bytes) -> SourceFile | None:
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise Malformed("request is not an object")
    return SourceFile(Path(_str(meta, "path")), _str(meta, "source"), _str(meta, "suffix"), _str(meta, "sha256"),
                      blob if meta.get("has_data") is True else None)


def encode_reply(kind: str, payload: Any, peak_kb: int) -> Iterator[bytes]:
    """The frames of one reply: the reply itself, then an "ok" document's messages `ROWS_PER_FRAME` at a time. An
    "ok" payload is (Document, notes) or (Document, notes, MessageStream): a stream's messages are taken as each
    frame is written, so a phone report's are never all in the worker at once (`loaders.parse_source_stream`)."""
    if kind != "ok":
        yield frame({"kind": kind, "payload": payload, "peak_kb": int(peak_kb)})
        return
    doc, notes, *rest = payload
    messages: Iterable[Message] = rest[0] if rest else doc.messages
    count = len(rest[0]) if rest else len(doc.messages)
    yield frame({"kind": kind, "payload": {"document": _document_json(replace(doc, messages=())),
                                           "notes": [str(note) for note in notes],
                                           "message_frames": -(-count // ROWS_PER_FRAME)}, "peak_kb": int(peak_kb)})
    rows: list[Message] = []
    sent = 0
    for message in messages:
        rows.append(message)
        if len(rows) == ROWS_PER_FRAME:
            yield frame(_message_rows(rows))
            sent, rows = sent + len(rows), []
    if rows:
        yield frame(_message_rows(rows))
        sent += len(rows)
    if sent != count:  # the parent reads exactly the frames announced
        raise ValueError(f"{sent} messages streamed, {count} announced")


def read_reply(read_exact: Any, cap: int, sink: Callable[[Sequence[Sequence[str]]], None] | None = None) \
        -> tuple[str, Any, int]:
    """One whole reply (`decode_reply`, then its message frames) through `read_exact`; Malformed when the frames
    together are over `cap` or a message frame is not a list of message rows. `sink`: an "ok" document's message rows
    go there a frame at a time (`ingest.slices.spool`) and the document comes back without messages."""
    used = [0]

    def counted(size: int) -> bytes:
        used[0] += size
        if used[0] > cap:
            raise Malformed(f"a reply over the cap of {cap} bytes was sent")
        data: bytes = read_exact(size)
        return data

    kind, payload, peak, frames = _decode_reply(read_frame(counted, cap)[0])
    if kind == "ok" and sink is not None:
        doc, notes = payload
        sink(_message_rows(doc.messages))
        for _ in range(frames):
            sink(_rows({"rows": read_frame(counted, cap)[0]}, "rows", _ROW))
        payload = (replace(doc, messages=()), notes)
    elif kind == "ok" and frames:
        doc, notes = payload
        messages = list(doc.messages)
        for _ in range(frames):
            messages.extend(Message(*row) for row in _rows({"rows": read_frame(counted, cap)[0]}, "rows", _ROW))
        payload = (replace(doc, messages=tuple(messages)), notes)
    return kind, payload, peak


def decode_reply(meta: Any) -> tuple[str, Any, int]:
    """(kind, payload, peak_kb) of a reply's first frame, with an "ok" payload as (Document, notes) holding the
    messages sent inline only; Malformed on anything else."""
    return _decode_reply(meta)[:3]


def _decode_reply(meta: Any) -> tuple[str, Any, int, int]:
    if not isinstance(meta, dict) or meta.get("kind") not in KINDS:
        raise Malformed("not a reply object with a known kind")
    peak = meta.get("peak_kb")
    if not isinstance(peak, int) or isinstance(peak, bool):
        raise Malformed("peak_kb is not an integer")
    payload = meta.get("payload")
    if meta["kind"] != "ok":
        if not isinstance(payload, str):
            raise Malformed(f"{meta['kind']} payload is not a string")
        return str(meta["kind"]), payload, peak, 0
    if not isinstance(payload, dict) or not isinstance(payload.get("notes"), list):
        raise Malformed("ok payload is not {document, notes}")
    notes = payload["notes"]
    if not all(isinstance(n, str) for n in notes):
        raise Malformed("a note is not a string")
    frames = payload.get("message_frames", 0)
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 0:
        raise Malformed("message_frames is not a count")
    return "ok", (_document(payload.get("document")), list(notes)), peak, frames


def read_frame(read_exact: Any, cap: int) -> tuple[Any, bytes]:
    """One frame through `read_exact(n) -> bytes`; Malformed when a length is over `cap` or the JSON is bad."""
    size = HEADER.unpack(read_exact(HEADER.size))[0]
    if size > cap:
        raise Malformed(f"a frame of {size} bytes was announced, over the cap of {cap} bytes")
    head = read_exact(size)
    blob_size = HEADER.unpack(read_exact(HEADER.size))[0]
    if size + blob_size > cap:
        raise Malformed(f"a frame of {size + blob_size} bytes was announced, over the cap of {cap} bytes")
    blob = read_exact(blob_size) if blob_size else b""
    try:
        return json.loads(head.decode("utf-8")), blob
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise Malformed(f"not UTF-8 JSON ({type(exc).__name__})") from None


def stream_reader(inp: IO[bytes]) -> Any:
    def read_exact(n: int) -> bytes:
        data = inp.read(n)
        if len(data) < n:
            raise EOFError
        return data

    return read_exact


def _message_rows(messages: Sequence[Message]) -> list[list[str]]:
    return [[getattr(m, name) for name in _MESSAGE_FIELDS] for m in messages]


def _document_json(doc: Document) -> dict[str, Any]:
    return {"source": doc.source, "kind": doc.kind, "text": doc.text, "sha256": doc.sha256,
            "pages": [list(p) for p in doc.pages], "title": doc.title, "ocr_pages": [list(p) for p in doc.ocr_pages],
            "messages": _message_rows(doc.messages)}


def _document(obj: Any) -> Document:
    if not isinstance(obj, dict):
        raise Malformed("document is not an object")
    kind = _str(obj, "kind")
    if kind not in DOC_KINDS:
        raise Malformed(f"unknown document kind {kind[:20]!r}")
    pages = _rows(obj, "pages", (int, int, int))
    ocr = _rows(obj, "ocr_pages", (int, (int, float)))
    raw = _rows(obj, "messages", _ROW)
    messages = tuple(Message(*row) for row in raw)
    return Document(source=_str(obj, "source"), kind=kind, text=_str(obj, "text"),  # type: ignore[arg-type]
                    sha256=_str(obj, "sha256"), pages=pages, messages=messages, title=_str(obj, "title"),
                    ocr_pages=ocr)


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise Malformed(f"{key} is not a string")
    return value


def _rows(obj: dict[str, Any], key: str, types: tuple[Any, ...]) -> tuple[Any, ...]:
    rows = obj.get(key)
    if not isinstance(rows, list):
        raise Malformed(f"{key} is not a list")
    for row in rows:
        if (not isinstance(row, list) or len(row) != len(types)
                or any(isinstance(v, bool) or not isinstance(v, t) for v, t in zip(row, types, strict=True))):
            raise Malformed(f"an entry of {key} has the wrong shape")
    return tuple(tuple(row) for row in rows)


def document_to_json(doc: Document) -> dict[str, Any]:
    """A document as plain JSON data (also the spool of a split file, `assistant.workers.spool`)."""
    return _document_json(doc)


def document_from_json(obj: Any) -> Document:
    """The document back, every field's type checked; Malformed when it is not exactly one."""
    return _document(obj)
