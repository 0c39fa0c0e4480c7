"""The derived per-case files beside Chroma, in data-only formats: a case's chunk catalog (JSON) and its BM25 index
(an uncompressed NumPy .npz of plain arrays, memory-mapped where it lies: keywords/mapped.py; object arrays are
refused, never unpickled), so loading our own files can never execute code.

Each file carries a stamp: the BM25 format, the case's generation and the manifest digest of the served sources
(`Manifest.digest`). A file whose stamp differs from the manifest's current one is stale and never used (rebuilt
instead); so is a torn or unreadable one. Files are written whole (temporary file then rename), 0600 in a 0700 folder.
Kept apart so a question can load the small keyword index without the chunk texts."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np

from assistant.index.bm25 import BM25_FORMAT, Bm25Index
from assistant.index.durable import atomic_file, atomic_write_parts, kill_point
from assistant.index.keywords.mapped import Pieces, open_mapped, write_npz
from assistant.perms import private_dir

log = logging.getLogger(__name__)

Part = Literal["chunks", "bm25"]
Stamp = tuple[int, int, str]  # (BM25_FORMAT, generation, manifest digest)
Catalog = dict[str, tuple[str, dict[str, Any]]]  # chunk id -> (text, metadata)
COPY_BYTES = 1 << 22  # bytes of the spilled documents column copied into the file at a time


def part_path(index_dir: Path, case: str, part: Part) -> Path:
    return index_dir / "bm25" / (f"{case}.chunks.json" if part == "chunks" else f"{case}.bm25.npz")


def stamp_of(gen: int, digest: str) -> Stamp:
    return (BM25_FORMAT, gen, digest)


def save_chunks(index_dir: Path, case: str, stamp: Stamp, chunks: Catalog) -> None:
    """The same bytes as one `json.dumps` of {"stamp": ..., "chunks": [[id, text, meta], ...]}, written chunk by chunk:
    the whole JSON of a large case never sits in memory (bench_ingest_memory: it was the ingest's peak)."""
    def parts() -> Iterator[bytes]:
        yield f'{{"stamp": {json.dumps(list(stamp), ensure_ascii=False)}, "chunks": ['.encode()
        for n, (cid, (text, meta)) in enumerate(chunks.items()):
            yield (", " if n else "").encode() + json.dumps([cid, text, meta], ensure_ascii=False).encode("utf-8")
        yield b"]}"

    atomic_write_parts(part_path(index_dir, case, "chunks"), parts())


def load_chunks(index_dir: Path, case: str, stamp: Stamp) -> Catalog | None:
    try:
        body = json.loads(part_path(index_dir, case, "chunks").read_bytes())
        if tuple(body["stamp"]) != stamp:
            return None
        return {str(cid): (str(text), dict(meta)) for cid, text, meta in body["chunks"]}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # torn, old-format or foreign: rebuilt
        log.info("catalog file unusable case=%s (%s); rebuilding", case, type(exc).__name__)
        return None


def save_bm25(index_dir: Path, case: str, stamp: Stamp, bm25: Bm25Index) -> None:
    _write_bm25(index_dir, case, stamp, bm25, {})


def save_bm25_parts(index_dir: Path, case: str, stamp: Stamp, bm25: Bm25Index,
                    pieces: Iterable[tuple[np.ndarray, np.ndarray]], entries: int) -> None:
    """Write an index whose score matrix comes as (scores, documents) pieces (keywords/stream.build_keyword_parts):
    the scores go straight into the file and the documents through a temporary file, so the matrix is never whole in
    memory. The same file as `save_bm25` of the filled index."""
    target = part_path(index_dir, case, "bm25")
    with tempfile.TemporaryFile(prefix="bm25-indices-", dir=private_dir(target.parent)) as spill:
        def scores() -> Iterator[np.ndarray]:
            for data, docs in pieces:
                spill.write(docs.tobytes())
                yield data

        def documents() -> Iterator[np.ndarray]:
            spill.seek(0)
            while chunk := spill.read(COPY_BYTES):
                yield np.frombuffer(chunk, dtype=np.int32)

        _write_bm25(index_dir, case, stamp, bm25, {"data": Pieces(np.dtype(np.float32), entries, scores()),
                                                   "indices": Pieces(np.dtype(np.int32), entries, documents())})


def _write_bm25(index_dir: Path, case: str, stamp: Stamp, bm25: Bm25Index, streamed: dict[str, Pieces]) -> None:
    header, arrays = bm25.to_arrays()
    header_array = np.array(json.dumps({"stamp": list(stamp), **header}, ensure_ascii=False))  # unicode, no pickle
    members: dict[str, np.ndarray | Pieces] = {"header": header_array, **arrays}
    members.update(streamed)  # in place of the index's empty data and indices, "data" first (it fills the spill)
    with atomic_file(part_path(index_dir, case, "bm25")) as fh:
        write_npz(fh, members, after_first=lambda: kill_point("bm25_save"))  # a torn temporary file if killed


def bm25_stamp(index_dir: Path, case: str) -> Stamp | None:
    """The stamp of the persisted BM25 file (None when absent or unreadable), for fsck."""
    header = _bm25_header(index_dir, case)
    return None if header is None else (int(header["stamp"][0]), int(header["stamp"][1]), str(header["stamp"][2]))


def _bm25_header(index_dir: Path, case: str) -> dict[str, Any] | None:
    try:
        with np.load(part_path(index_dir, case, "bm25"), allow_pickle=False) as npz:
            header: dict[str, Any] = json.loads(str(npz["header"]))
            return header
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.info("keyword index file unusable case=%s (%s); rebuilding", case, type(exc).__name__)
        return None


def load_bm25(index_dir: Path, case: str, stamp: Stamp) -> Bm25Index | None:
    """The case's keyword index mapped from its file, not read (BM25_FORMAT 6; pages are read as queries touch
    them), or None when absent, stale or unusable."""
    try:
        arrays = open_mapped(part_path(index_dir, case, "bm25"))
        header = json.loads(str(arrays.pop("header")))
        if tuple(header["stamp"]) != stamp:
            return None
        return Bm25Index.from_arrays(header, arrays)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        log.info("keyword index file unusable case=%s (%s); rebuilding", case, type(exc).__name__)
        return None
