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
from collections.abc import Mapping
from pathlib import Path

import numpy as np

ALIGN = 64  # NumPy's own .npy header alignment (numpy.lib.format.ARRAY_ALIGN)
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # zip local file header, 30 bytes
_PAD_ID = 0xD935  # the extra-field id zipalign uses for padding; readers ignore unknown ids


def pack(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed .npz of `arrays` with every array 64-byte aligned in the file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            fixed = buf.tell() + _LOCAL.size + len(info.filename.encode()) + 4
            pad = -fixed % ALIGN
            info.extra = struct.pack("<HH", _PAD_ID, pad) + bytes(pad)
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, member.getbuffer())
    return buf.getvalue()


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
