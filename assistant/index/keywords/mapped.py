"""A keyword index file that loads without being read: a plain uncompressed .npz (np.load still opens it) whose
members are laid out so each array can be used where it lies in a read-only memory map of the file. Loading a case
then costs its zip directory and a few header bytes per array; the pages a query touches are read on demand, by the
OS, and shared between processes (bench_keyword_cache.py: the cold first question of a 50k-chunk case).

Each member starts on a 64-byte boundary (padding in the zip entry's extra field, which readers skip) and NumPy's .npy
header pads itself to 64 bytes, so every array is aligned. Data only: a member of object dtype (what np.save would
pickle) is refused, never unpickled; a compressed or foreign member is refused too (the caller rebuilds)."""

from __future__ import annotations

import io
import mmap
import struct
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

ALIGN = 64  # NumPy's own .npy header alignment (numpy.lib.format.ARRAY_ALIGN)
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # zip local file header, 30 bytes
_PAD_ID = 0xD935  # the extra-field id zipalign uses for padding; readers ignore unknown ids


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class Pieces:
    """An array written piece by piece, never whole: its dtype, its length, and 1-d pieces that add up to it."""

    dtype: np.dtype[Any]
    length: int
    pieces: Iterable[np.ndarray]


def write_npz(fh: BinaryIO, arrays: Mapping[str, np.ndarray | Pieces], after_first: Callable[[], None] = _nothing,
              ) -> None:
    """An uncompressed .npz of `arrays` with every array 64-byte aligned, written to a seekable file as it comes: a
    `Pieces` member's pieces go straight to the file (the keyword build's score matrix, merged a range at a time, is
    never whole in memory). `after_first` runs once the first member is written (a fault-injection kill point)."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        for n, (name, array) in enumerate(arrays.items()):
            header = io.BytesIO()
            if isinstance(array, Pieces):
                meta = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype=array.dtype))
                meta["shape"] = (array.length,)
                np.lib.format.write_array_header_1_0(header, meta)
                size = header.tell() + array.length * array.dtype.itemsize
            else:
                np.lib.format.write_array(header, np.asanyarray(array), allow_pickle=False)
                size = header.tell()
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.file_size = size
            zip64 = 20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0  # the extra field zipfile appends for it
            fixed = fh.tell() + _LOCAL.size + len(info.filename.encode()) + 4 + zip64
            pad = -fixed % ALIGN
            info.extra = struct.pack("<HH", _PAD_ID, pad) + bytes(pad)
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w") as member:
                written = member.write(header.getbuffer())
                for piece in array.pieces if isinstance(array, Pieces) else ():
                    written += member.write(np.ascontiguousarray(piece, dtype=array.dtype).data)
                if written != size:  # pieces short of (or past) the length the header announced
                    raise ValueError(f"{name}: {written} bytes written, {size} announced")
            if n == 0:
                after_first()


def open_mapped(path: Path) -> dict[str, np.ndarray]:
    """Every array of a .npz written uncompressed, as read-only views of one memory map of the file (empty arrays
    and 0-d ones, e.g. a JSON header, are copied out). ValueError/OSError/BadZipFile when it is not such a file."""
    with path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        size = fh.seek(0, io.SEEK_END)
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        arrays: dict[str, np.ndarray] = {}
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"not a stored .npy member: {info.filename}")
            fh.seek(info.header_offset)
            local = _LOCAL.unpack(fh.read(_LOCAL.size))
            if local[0] != 0x04034B50:
                raise zipfile.BadZipFile("bad local header")
            begin = info.header_offset + _LOCAL.size + local[9] + local[10]
            fh.seek(begin)
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                                     else np.lib.format.read_array_header_2_0(fh))
            if dtype.hasobject:
                raise ValueError(f"object array refused: {info.filename}")
            count = int(np.prod(shape))
            start = fh.tell()
            if start + count * dtype.itemsize > begin + info.file_size or mapped is None:
                raise ValueError(f"member larger than its entry: {info.filename}")
            flat = np.frombuffer(mapped, dtype=dtype, count=count, offset=start) if count \
                else np.zeros(0, dtype=dtype)
            array = flat.reshape(shape, order="F" if fortran else "C")
            arrays[info.filename[:-4]] = array.copy() if array.ndim == 0 or not count else array
    return arrays
