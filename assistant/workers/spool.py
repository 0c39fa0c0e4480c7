"""The spool of a split file (`assistant.workers.split`): the document its parse task read and the chunks it made,
written once under INDEX_DIR/spool/CASE/KEY so that its part tasks and its commit task never parse it again.

Data only, never pickle (the file was hostile; a worker that reads the spool must not run code from it): the document
in the parse worker's wire format (`ingest.wire`, every field's type checked on reading), the chunks one JSON array
per line with each field's type checked. Each file is written beside its final name and renamed into place, so a
reader sees a whole file or none. Files are 0600 (they hold
evidence text); the commit task deletes the spool once the version is served. `head.json` (source, sha256, origin,
served sha256, chunk count) is written last and marks the spool complete: the part tasks read only it and their
lines of `chunks.jsonl`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from assistant.ingest.wire import Malformed, document_from_json, document_to_json
from assistant.types import Chunk, Document

_FIELDS = (("chunk_id", str), ("case", str), ("source", str), ("locator", str), ("text", str), ("start", int),
           ("end", int), ("content_hash", str), ("source_hash", str), ("kind", str))
_SCALARS = (str, int, float, bool)
HEAD_STR = ("source", "sha256", "origin", "old_sha256")


def spool_dir(index_dir: Path, case: str, source: str, sha256: str) -> Path:
    """Where the spool of this version of this source lives (the name is a hash: no path from the evidence)."""
    key = hashlib.sha256(f"{case}\0{source}\0{sha256}".encode()).hexdigest()[:32]
    return Path(index_dir) / "spool" / case / key


def write_spool(folder: Path, doc: Document, chunks: Iterable[Chunk], origin: str, old_sha256: str) -> int:
    """Write the chunks, the document, then the head; returns the chunks written."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    n = 0

    def lines() -> Iterable[str]:
        nonlocal n
        for c in chunks:
            n += 1
            yield json.dumps([*(getattr(c, name) for name, _ in _FIELDS), c.meta], ensure_ascii=False) + "\n"

    _write(folder / "chunks.jsonl", lines())
    _write(folder / "doc.json", [json.dumps(document_to_json(doc), ensure_ascii=False)])
    head = {"source": doc.source, "sha256": doc.sha256, "origin": origin, "old_sha256": old_sha256, "n_chunks": n}
    _write(folder / "head.json", [json.dumps(head, ensure_ascii=False)])
    return n


def read_head(folder: Path) -> dict[str, Any]:
    """{source, sha256, origin, old_sha256, n_chunks}; FileNotFoundError when the spool is not complete (or was
    removed by the commit), Malformed when it is not a head."""
    head = _json(folder / "head.json")
    if not isinstance(head, dict) or not all(isinstance(head.get(k), str) for k in HEAD_STR):
        raise Malformed("spool head is not an object of strings")
    if not isinstance(head.get("n_chunks"), int) or isinstance(head.get("n_chunks"), bool):
        raise Malformed("spool head has no chunk count")
    return head


def read_doc(folder: Path) -> Document:
    return document_from_json(_json(folder / "doc.json"))


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"spool file {path.name} is not JSON ({type(exc).__name__})") from None


def read_chunks(folder: Path, start: int, end: int) -> list[Chunk]:
    """Chunks [start, end) of the spool, in order (only those lines are decoded)."""
    out: list[Chunk] = []
    with (folder / "chunks.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= end:
                break
            if n >= start:
                out.append(_chunk(line))
    if len(out) != end - start:
        raise Malformed(f"the spool holds {start + len(out)} chunks, not the {end} a part needs")
    return out


def remove_spool(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _chunk(line: str) -> Chunk:
    try:
        row = json.loads(line)
    except ValueError:
        raise Malformed("a spooled chunk is not JSON") from None
    if not isinstance(row, list) or len(row) != len(_FIELDS) + 1:
        raise Malformed("a spooled chunk has the wrong shape")
    *values, meta = row
    if any(isinstance(v, bool) or not isinstance(v, t) for v, (_, t) in zip(values, _FIELDS, strict=True)):
        raise Malformed("a field of a spooled chunk has the wrong type")
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, _SCALARS)
                                             for k, v in meta.items()):
        raise Malformed("a spooled chunk's meta is not a flat object")
    return Chunk(**dict(zip((name for name, _ in _FIELDS), values, strict=True)), meta=meta)


def _write(path: Path, parts: Iterable[str]) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for part in parts:
            fh.write(part)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
