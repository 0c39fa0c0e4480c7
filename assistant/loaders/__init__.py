"""Find case files and load them into Documents, one loader module per format.

Loading is a pure function of the file: `load_file(path, root)` reads the bytes once, hashes them and dispatches on
the suffix. Every failure a user can act on is an IngestError(relative_path, reason); unknown types are never read.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.errors import IngestError
from assistant.loaders.files import open_regular, refusal
from assistant.loaders.limits import ZIP_SUFFIXES, Limits, check_size, check_zip
from assistant.types import Document, Message, MessageStream

log = logging.getLogger(__name__)
DEFAULT_LIMITS = Limits()

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".pdf", ".docx", ".eml", ".csv", ".jsonl", ".json",
                                                ".ufdr", ".xml", ".db", ".sqlite", ".sqlite3", ".zip",  # loaders.phone
                                                ".html", ".htm",  # Telegram HTML exports only
                                                ".png", ".jpg", ".jpeg", ".tif", ".tiff"})  # scans: loaders.ocr

__all__ = ["SUPPORTED_SUFFIXES", "SourceFile", "discover", "discover_files", "file_sha256", "load_file",
           "load_file_with_notes", "parse_source", "parse_source_stream", "read_source", "relative_source",
           "unsupported_reason"]


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def discover(paths: Sequence[Path]) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """`discover_files` with only the refused paths (`unsupported_reason(path)` says why for most of them)."""
    found, refused = discover_files(paths)
    return found, sorted({path for path, _ in refused})


def discover_files(paths: Sequence[Path]) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """Expand files and folders into `(found, refused)`.

    `found` holds (file, root) pairs, sorted and without duplicates: root is the folder the user named, or a named
    file's parent. Folders are walked recursively, skipping hidden files and folders. `refused` holds (path, reason)
    for files with an unknown suffix, paths that do not exist, and anything `files.refusal` will not read (pipes,
    devices, symbolic links leaving the root, link loops, links to folders). A file named explicitly is taken even
    when hidden.
    """
    found: dict[Path, tuple[Path, Path]] = {}
    refused: dict[Path, str] = {}

    def consider(file: Path, root: Path) -> None:
        if file.suffix.lower() not in SUPPORTED_SUFFIXES:
            refused[file] = f"unsupported file type {file.suffix or '(none)'!r}"
            return
        reason = refusal(file, root)
        if reason is not None:
            refused[file] = reason
            return
        found.setdefault(file.resolve(), (file, root))

    for path in paths:
        if path.is_dir():
            for folder, dirnames, filenames in os.walk(path):
                links = [d for d in dirnames if not _is_hidden(d) and os.path.islink(os.path.join(folder, d))]
                for name in links:  # os.walk never enters them: say so instead of skipping them silently
                    refused[Path(folder) / name] = refusal(Path(folder) / name, path) or "symbolic link to a folder"
                dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d) and d not in links)
                for name in sorted(filenames):
                    if not _is_hidden(name):
                        consider(Path(folder) / name, path)
        elif os.path.lexists(path):
            consider(path, path.parent)
        else:
            refused[path] = "no such file or folder"
    pairs = sorted(found.values(), key=lambda pair: (str(pair[1]), relative_source(pair[0], pair[1])))
    log.debug("discover named=%d found=%d refused=%d", len(paths), len(pairs), len(refused))
    return pairs, sorted(refused.items())


def unsupported_reason(path: Path) -> str:
    """Why `discover` put a path in its unsupported list."""
    if not path.exists():
        return "no such file or folder"
    if not path.is_file():
        return "not a regular file"
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return f"unsupported file type {path.suffix or '(no suffix)'!r} (supported: {supported})"


def relative_source(path: Path, root: Path) -> str:
    """`Document.source`: the POSIX path of `path` relative to `root` (the file name when it is outside root)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):  # outside root, or a link loop (refused before any read)
        return path.name


def load_file(path: Path, root: Path) -> Document:
    """Load one supported file. Raises IngestError with a reason a reviewer can act on."""
    doc, notes = load_file_with_notes(path, root)
    if notes:
        log.info("loaded with notes sha256=%s notes=%d", doc.sha256[:12], len(notes))
    return doc


def load_file_with_notes(path: Path, root: Path) -> tuple[Document, list[str]]:
    """Like `load_file`, also returning notes for the user about what was skipped or assumed
    (e.g. "skipped rows: 2 empty body", "decoded as cp1252 (not UTF-8)"). Notes never contain file text."""
    return parse_source(read_source(path, root))


@dataclass(frozen=True)
class SourceFile:
    """A file read once: `sha256` is the hash of exactly the bytes its loader parses. `data` is None for the phone
    reports and databases read from the path (never whole into memory): `parse_source` hashes those again after
    parsing and refuses the file if it changed while it was read."""

    path: Path
    source: str
    suffix: str
    sha256: str
    data: bytes | None


def read_source(path: Path, root: Path, limits: Limits = DEFAULT_LIMITS) -> SourceFile:
    """Check and read one file once (IngestError with the reason when it may not or cannot be read, is over a size
    cap or is a zip that would inflate too far: `loaders.limits`)."""
    source = relative_source(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(source, unsupported_reason(path))
    reason = refusal(path, root)
    if reason is not None:
        raise IngestError(source, reason)
    check_size(path, source, limits, streamed=suffix in _PHONE_PATH_SUFFIXES)
    if suffix in _PHONE_PATH_SUFFIXES:
        if suffix in ZIP_SUFFIXES:
            check_zip(path, source, limits)
        return SourceFile(path, source, suffix, file_sha256(path, source), None)
    try:
        with open_regular(path, source) as handle:
            data = handle.read()
    except OSError as exc:
        raise IngestError(source, f"cannot read: {exc.strerror or exc}") from exc
    if not data:
        raise IngestError(source, "empty file (0 bytes)")
    if suffix in ZIP_SUFFIXES:
        check_zip(data, source, limits)
    return SourceFile(path, source, suffix, hashlib.sha256(data).hexdigest(), data)


def parse_source(read: SourceFile) -> tuple[Document, list[str]]:
    """Parse a file read by `read_source` into a Document (its sha256 is the read's)."""
    if read.data is None:
        from assistant.loaders.phone import load_path

        doc, notes = load_path(read.path, read.source, read.sha256)
        _unchanged(read)
        return doc, notes
    doc, notes = _dispatch(read.suffix, read.data, read.source, read.sha256)
    log.debug("loaded kind=%s sha256=%s chars=%d messages=%d pages=%d", doc.kind, read.sha256[:12],
              len(doc.text), len(doc.messages), len(doc.pages))
    return doc, notes


def parse_source_stream(read: SourceFile) -> tuple[Document, list[str], MessageStream]:
    """Like `parse_source`, with the messages apart from the document: a phone report's or database's come back
    from disk one at a time (`loaders.phone.merge.MergedRecords`, what the parse worker sends frame by frame);
    any other file's are its document's own. Close the stream when done."""
    if read.data is None:
        from assistant.loaders.phone import stream_path

        doc, notes, messages = stream_path(read.path, read.source, read.sha256)
        try:
            _unchanged(read)
        except IngestError:
            messages.close()
            raise
        return doc, notes, messages
    doc, notes = parse_source(read)
    return replace(doc, messages=()), notes, _Held(doc.messages)


class _Held:
    """Messages already in memory, as a stream."""

    def __init__(self, messages: tuple[Message, ...]) -> None:
        self._messages = messages

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[Message]:
        return iter(self._messages)

    def close(self) -> None:
        self._messages = ()


def _unchanged(read: SourceFile) -> None:
    after = file_sha256(read.path, read.source)
    if after != read.sha256:
        raise IngestError(read.source, f"file changed while it was read (sha256 {read.sha256[:12]} before, "
                                       f"{after[:12]} after); refused: ingest it again once it is complete")


_PHONE_PATH_SUFFIXES = frozenset({".ufdr", ".xml", ".db", ".sqlite", ".sqlite3", ".zip"})


def file_sha256(path: Path, source: str) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks. Raises IngestError when unreadable or empty."""
    digest = hashlib.sha256()
    try:
        with open_regular(path, source) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise IngestError(source, f"cannot read: {exc.strerror or exc}") from exc
    if path.stat().st_size == 0:
        raise IngestError(source, "empty file (0 bytes)")
    return digest.hexdigest()


def _dispatch(suffix: str, data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    match suffix:
        case ".txt":
            from assistant.loaders.phone import load_text_or_chat

            return load_text_or_chat(data, source, sha256)
        case ".md":
            from assistant.loaders.text import load_text

            return load_text(data, source, sha256, markdown=True)
        case ".png" | ".jpg" | ".jpeg" | ".tif" | ".tiff":
            from assistant.loaders.ocr import load_image

            return load_image(data, source, sha256)
        case ".json":
            from assistant.loaders.phone import load_telegram

            return load_telegram(data, source, sha256)
        case ".html" | ".htm":
            from assistant.loaders.phone import load_telegram_html

            return load_telegram_html(data, source, sha256)
        case ".pdf":
            from assistant.loaders.pdf import load_pdf

            return load_pdf(data, source, sha256)
        case ".docx":
            from assistant.loaders.docx import load_docx

            return load_docx(data, source, sha256)
        case ".eml":
            from assistant.loaders.email import load_email

            return load_email(data, source, sha256)
        case ".csv" | ".jsonl":
            from assistant.loaders.messages import load_messages

            return load_messages(data, source, sha256, jsonl=suffix == ".jsonl")
    raise IngestError(source, f"unsupported file type {suffix!r}")  # pragma: no cover - guarded above
