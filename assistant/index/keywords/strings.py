"""A list of strings kept as one UTF-8 byte buffer and offsets: loading it from a saved index is a NumPy read, not
one Python object per chunk id or term (the keyword index of a 150k-chunk case loads without parsing its ids), and
a sorted one is searched by bisection, so the term lookup needs no dict either."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class Strings(Sequence[str]):
    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob  # uint8
        self.offsets = offsets  # int64, len(self) + 1

    @classmethod
    def of(cls, values: Sequence[str]) -> Strings:
        offsets = np.zeros(len(values) + 1, dtype=np.int64)  # no list of encoded copies (2M terms at 1M chunks)
        np.cumsum(np.fromiter((len(v.encode("utf-8")) for v in values), dtype=np.int64, count=len(values)),
                  out=offsets[1:])
        return cls(np.frombuffer("".join(values).encode("utf-8"), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  # ints only: no slices
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return self.blob[self.offsets[i]:self.offsets[i + 1]].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def find(self, value: str) -> int:
        """Position of `value` in a list sorted by UTF-8 bytes, -1 when absent."""
        key = value.encode("utf-8")
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.blob[self.offsets[mid]:self.offsets[mid + 1]].tobytes() < key:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self) and self.blob[self.offsets[lo]:self.offsets[lo + 1]].tobytes() == key else -1

    @property
    def nbytes(self) -> int:
        return int(self.blob.nbytes + self.offsets.nbytes)
