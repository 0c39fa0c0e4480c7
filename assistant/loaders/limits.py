"""Size caps and the zip-bomb check, applied before a loader sees a file; each refusal names the limit and its setting.

- A file read whole into memory (text, PDF, DOCX, e-mail, message exports, images) may be at most `max_file_mb`; a
  phone report, database or zip read from its path (streamed) at most `max_streamed_mb`.
- A zip (DOCX, UFDR, a zip of phone files) is refused when its members would inflate past `max_streamed_mb`, or past
  `max_zip_ratio` times the archive's size once they exceed `ZIP_RATIO_FLOOR` (a small file may compress as well as
  it likes). Declared sizes are enough: Python's zipfile never inflates a member past its declared size.
  Measured on every zip on this machine (79: DOCX, data and text archives) the highest whole-archive ratio was 25.4
  (DOCX); public UFED XML and phone SQLite samples deflate 13.6x and 12x. A deflate bomb runs near 1,000x.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError

MIB = 1 << 20
ZIP_RATIO_FLOOR = 10 * MIB
ZIP_SUFFIXES = frozenset({".docx", ".ufdr", ".zip"})


@dataclass(frozen=True)
class Limits:
    max_file_mb: int = 512
    max_streamed_mb: int = 16_384
    max_zip_ratio: float = 100.0


def check_size(path: Path, source: str, limits: Limits, *, streamed: bool) -> int:
    """The file's size in bytes; IngestError when it is over its cap (never read)."""
    size = os.stat(path).st_size
    cap_mb = limits.max_streamed_mb if streamed else limits.max_file_mb
    if size > cap_mb * MIB:
        setting = "ASSISTANT_INGEST__MAX_STREAMED_MB" if streamed else "ASSISTANT_INGEST__MAX_FILE_MB"
        raise IngestError(source, f"file is {size / MIB:,.0f} MiB, over the {cap_mb:,} MiB limit ({setting}); "
                                  "not read")
    return size


def check_zip(data: bytes | Path, source: str, limits: Limits) -> None:
    """IngestError when a zip would inflate too far; a file that is not a zip is left to its loader."""
    packed = len(data) if isinstance(data, bytes) else os.stat(data).st_size
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if inflated > limits.max_streamed_mb * MIB:
        raise IngestError(source, f"zip would inflate to {inflated / MIB:,.0f} MiB, over the "
                                  f"{limits.max_streamed_mb:,} MiB limit (ASSISTANT_INGEST__MAX_STREAMED_MB); not read")
    ratio = inflated / max(packed, 1)
    if inflated > ZIP_RATIO_FLOOR and ratio > limits.max_zip_ratio:
        raise IngestError(source, f"zip would inflate {ratio:,.0f}x ({packed:,} bytes to {inflated / MIB:,.0f} MiB), "
                                  f"over the {limits.max_zip_ratio:g}x limit (ASSISTANT_INGEST__MAX_ZIP_RATIO): a "
                                  "decompression bomb, or a file to unpack and ingest as a folder; not read")
