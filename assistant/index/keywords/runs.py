"""The external-memory half of the keyword build: (term, document, tf) entries arrive document-major a block at a
time; each full block is sorted term-major and spilled to one temporary file as a run, so the builder holds one block,
not the case. `postings` merges the runs a range of terms at a time (ranges of about `step` entries, cut on the final
document frequencies) into the index's term-major columns, documents ascending within a term, so the merge holds one
range too. Peak memory is then O(block + vocabulary + documents' lengths), never O(entries)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

I32 = np.dtype(np.int32)


class Runs:
    """Sorted runs of (term, doc, tf) entries: spilled ones in one temporary file, the last one in memory."""

    def __init__(self, spill_dir: Path | None = None) -> None:
        self._dir = spill_dir  # where the temporary file goes (the case's private index folder; None: the system's)
        self._file: IO[bytes] | None = None
        self._spilled: list[tuple[int, int, int]] = []  # (file offset, entries, vocabulary size at the spill)
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, terms: np.ndarray, docs: np.ndarray, tfs: np.ndarray, n_terms: int, spill: bool) -> None:
        """A block of entries (document-major); kept in memory when `spill` is False (the last block)."""
        order = np.argsort(terms, kind="stable")
        sorted_terms, sorted_docs, sorted_tfs = terms[order], docs[order], tfs[order]
        if not spill:
            self._last = (sorted_terms, sorted_docs, sorted_tfs)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="bm25-runs-", dir=self._dir)  # noqa: SIM115  # closed by `close`
        offset = self._file.seek(0, 2)
        counts = np.bincount(sorted_terms, minlength=n_terms).astype(np.int32)
        for part in (sorted_terms, sorted_docs, sorted_tfs, counts):
            self._file.write(np.ascontiguousarray(part, dtype=np.int32).tobytes())
        self._spilled.append((offset, len(terms), n_terms))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._spilled, self._last = None, [], None

    def _read(self, offset: int, count: int) -> np.ndarray:
        assert self._file is not None
        self._file.seek(offset)
        return np.frombuffer(self._file.read(count * 4), dtype=np.int32) if count else np.zeros(0, np.int32)

    def _starts(self, bounds: np.ndarray) -> list[np.ndarray]:
        """For every run, where each term range starts in it (bounds: first term of each range, then n_terms)."""
        out = []
        for offset, entries, n_terms in self._spilled:
            counts = self._read(offset + 12 * entries, n_terms)
            ends = np.zeros(n_terms + 1, dtype=np.int64)
            np.cumsum(counts, out=ends[1:])
            out.append(ends[np.minimum(bounds, n_terms)])
        if self._last is not None:
            out.append(np.searchsorted(self._last[0], bounds, side="left"))
        return out

    def _slice(self, run: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if run == len(self._spilled):
            assert self._last is not None
            return self._last[0][a:b], self._last[1][a:b], self._last[2][a:b]
        offset, entries, _ = self._spilled[run]
        return (self._read(offset + 4 * a, b - a), self._read(offset + 4 * (entries + a), b - a),
                self._read(offset + 4 * (2 * entries + a), b - a))

    def postings(self, df: np.ndarray, idf: np.ndarray, norm: np.ndarray,
                 step: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(scores float32, documents int32) of the index's columns in order, a range of terms at a time:
        score = idf[t] * tf / (norm[d] + tf), in float64 from float32 tf, stored float32 (bm25s's arithmetic)."""
        ends = np.cumsum(df)
        cuts = np.searchsorted(ends, np.arange(step, int(ends[-1]) if len(ends) else 0, step), side="left") + 1
        bounds = np.unique(np.concatenate(([0], cuts, [len(df)]))).astype(np.int64)
        starts = self._starts(bounds)
        for r in range(len(bounds) - 1):
            parts = [self._slice(n, int(s[r]), int(s[r + 1])) for n, s in enumerate(starts)]
            terms = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
            docs = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
            tfs = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int32)
            order = np.argsort(terms, kind="stable")  # runs are in document order: documents stay ascending
            terms, docs, tf = terms[order], docs[order], tfs[order].astype(np.float32)
            scores = (idf[terms].astype(np.float64) * (tf / (norm[docs] + tf))).astype(np.float32)
            yield scores, docs
