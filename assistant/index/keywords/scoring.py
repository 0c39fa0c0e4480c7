"""BM25 (Lucene variant: k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5))) as a term-major sparse matrix of
precomputed per-(term, document) scores, the layout bm25s uses, built by our own code so that a case can be indexed
page by page: `Bm25Builder.add` keeps only compact arrays of (term id, term frequency) per document, and `finish`
computes document frequencies, lengths and scores once at the end. Scores equal bm25s 0.3.16's (its float32 storage,
its float64 arithmetic, its float32 accumulation of a query's columns; tests/test_keyword_stream.py checks them
against bm25s on SciFact). Saved as plain arrays (persisted.py), loaded without parsing a string per chunk."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.keywords.columns import FilterColumns
from assistant.index.keywords.runs import Runs
from assistant.index.keywords.strings import Strings
from assistant.text.lexicon import search_terms

K1, B = 1.5, 0.75
SLICE = 1 << 20  # entries merged and scored at a time (float64 temporaries ~30 MB)
# Entries held before a sorted run is spilled (12 bytes each). bench_keyword_build.py, load ~10: peak 126 / 419 MB at
# 150k / 1M documents with 2^19 (25.0 / 196.8 s), 153 / 453 MB with 2^21 (34.7 / 213.5 s), 215 MB at 150k with 2^23.
BLOCK = 1 << 19
EMPTY = "\u2205"  # the token of a document with no words, so it still counts in N and the average length


class Bm25Index:
    """Ids are ours (row i of the matrix is ids[i]); `terms` is the vocabulary sorted, `term_ids` its column numbers;
    `indptr[t]:indptr[t+1]` slices column t's documents and scores."""

    def __init__(self, ids: Strings, terms: Strings, term_ids: np.ndarray, data: np.ndarray, indices: np.ndarray,
                 indptr: np.ndarray, columns: FilterColumns | None = None) -> None:
        self.ids = ids
        self.columns = columns  # what filters read per row (keywords/columns.py), when built from a case
        self.terms = terms
        self.term_ids = term_ids
        self.data = data
        self.indices = indices
        self.indptr = indptr

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> Bm25Index:
        builder = Bm25Builder()
        for cid, text in zip(ids, texts, strict=True):
            builder.add(cid, search_terms(text))
        return builder.finish()

    def filled(self, pieces: Iterable[tuple[np.ndarray, np.ndarray]]) -> Bm25Index:
        """This index with its score matrix's data and indices joined from `pieces` (Bm25Builder.finish_parts)."""
        got = list(pieces)
        self.data = np.concatenate([g[0] for g in got]) if got else np.zeros(0, np.float32)
        self.indices = np.concatenate([g[1] for g in got]) if got else np.zeros(0, np.int32)
        return self

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (ids and vocabulary included)."""
        extra = sum(a.nbytes for a in self.columns.arrays.values()) if self.columns is not None else 0
        arrays = self.data.nbytes + self.indices.nbytes + self.indptr.nbytes + self.term_ids.nbytes
        return int(arrays) + self.ids.nbytes + self.terms.nbytes + extra

    def to_arrays(self) -> tuple[dict[str, object], dict[str, np.ndarray]]:
        """A JSON-able header and numeric arrays from which `from_arrays` rebuilds the same index."""
        header: dict[str, object] = {"num_docs": len(self.ids), "params": {"k1": K1, "b": B, "method": "lucene"}}
        arrays = {"ids": self.ids.blob, "id_offsets": self.ids.offsets, "terms": self.terms.blob,
                  "term_offsets": self.terms.offsets, "term_ids": self.term_ids,
                  "data": self.data, "indices": self.indices, "indptr": self.indptr}
        if self.columns is not None:
            names, cols = self.columns.to_arrays()
            header["column_names"] = names
            arrays.update({f"col_{k}": v for k, v in cols.items()})
        return header, arrays

    @classmethod
    def from_arrays(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Bm25Index:
        ids = Strings(arrays["ids"], arrays["id_offsets"])
        if len(ids) != int(header["num_docs"]):
            raise ValueError("keyword index ids do not match its header")
        cols = {k[4:]: v for k, v in arrays.items() if k.startswith("col_")}
        columns = FilterColumns(cols, header["column_names"]) if "column_names" in header else None
        return cls(ids, Strings(arrays["terms"], arrays["term_offsets"]), arrays["term_ids"], arrays["data"],
                   arrays["indices"], arrays["indptr"], columns)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.search_tokens(search_terms(query), k)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Every document's score for the query tokens (a repeated token counts again, as in bm25s)."""
        found = [self.terms.find(t) for t in tokens]
        terms = [int(self.term_ids[n]) for n in found if n >= 0]
        if not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for t in terms:  # a column lists each document once, so a plain fancy-index add equals np.add.at
            start, end = self.indptr[t], self.indptr[t + 1]
            scores[self.indices[start:end]] += self.data[start:end]
        return scores

    def search_tokens(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        """The k best-scoring documents with a positive score, best first (ties: lower row first)."""
        if not self.ids or not tokens:
            return []
        scores = self.scores(tokens)
        hit = np.flatnonzero(scores > 0)
        if len(hit) > k:  # every score above the k-th best, then the lowest rows of those equal to it
            found = scores[hit]
            kth = np.partition(found, len(hit) - k)[len(hit) - k]
            above, tied = hit[found > kth], hit[found == kth]
            hit = np.concatenate((above, tied[: k - len(above)]))
        hit = hit[np.lexsort((hit, -scores[hit]))]
        return [(self.ids[int(d)], float(scores[d])) for d in hit]


class Bm25Builder:
    """Documents added one at a time (a page of a case at a time), never their texts. Entries (one per distinct term
    per document, 12 bytes) are held a block of `block` at a time, then sorted and spilled (keywords/runs.py), so the
    build holds one block plus the vocabulary, the ids and 4 bytes of length per document, whatever the case's size."""

    def __init__(self, block: int = BLOCK, spill_dir: Path | None = None) -> None:
        self.block = block
        self.spill_dir = spill_dir
        self.vocab: dict[str, int] = {}
        self._ids = bytearray()  # every chunk id, UTF-8, one after another
        self._id_ends = array("q")
        self._terms = array("i")  # term id of each (document, distinct term) entry of the block, documents in order
        self._tfs = array("i")  # its frequency in the document
        self._distinct = array("i")  # entries per document of the block
        self._lengths = array("i")  # tokens per document (every document)
        self._first = 0  # the block's first document
        self._df = np.zeros(0, dtype=np.int64)
        self._runs = Runs(spill_dir)

    def add(self, chunk_id: str, tokens: list[str]) -> None:
        self.add_counts(chunk_id, Counter(tokens), len(tokens))

    def add_counts(self, chunk_id: str, counts: Mapping[str, int], length: int) -> None:
        """One document by its term counts and its number of terms."""
        vocab = self.vocab
        self.add_ids(chunk_id, {vocab.setdefault(t, len(vocab)): n for t, n in counts.items()}, length)

    def add_ids(self, chunk_id: str, counts: Mapping[int, int], length: int) -> None:
        """One document by its term ids' counts (ids of `self.vocab`, keywords/terms.TermCounter) and its number of
        terms; a document with no term counts one EMPTY."""
        if not counts:
            counts, length = {self.vocab.setdefault(EMPTY, len(self.vocab)): 1}, 1
        self._ids += chunk_id.encode("utf-8")
        self._id_ends.append(len(self._ids))
        self._terms.extend(counts)
        self._tfs.extend(counts.values())
        self._distinct.append(len(counts))
        self._lengths.append(length)
        if len(self._terms) >= self.block:
            self._flush(spill=True)

    def add_block(self, chunk_ids: Sequence[str], lengths: np.ndarray, distinct: np.ndarray, terms: np.ndarray,
                  tfs: np.ndarray) -> None:
        """Documents already counted (keywords/merged.py): `distinct[i]` entries each (at least one, EMPTY
        included), their term ids of `self.vocab` and counts in `terms` / `tfs`, documents in order."""
        for cid in chunk_ids:
            self._ids += cid.encode("utf-8")
            self._id_ends.append(len(self._ids))
        self._terms.frombytes(np.ascontiguousarray(terms, dtype=np.int32).tobytes())
        self._tfs.frombytes(np.ascontiguousarray(tfs, dtype=np.int32).tobytes())
        self._distinct.frombytes(np.ascontiguousarray(distinct, dtype=np.int32).tobytes())
        self._lengths.frombytes(np.ascontiguousarray(lengths, dtype=np.int32).tobytes())
        if len(self._terms) >= self.block:
            self._flush(spill=True)

    def _flush(self, spill: bool) -> None:
        terms = np.array(self._terms, dtype=np.int32)
        distinct = np.array(self._distinct, dtype=np.int32)
        docs = np.repeat(np.arange(self._first, self._first + len(distinct), dtype=np.int32), distinct)
        block_df = np.bincount(terms, minlength=len(self.vocab))
        block_df[:len(self._df)] += self._df
        self._df = block_df
        self._runs.add(terms, docs, np.array(self._tfs, dtype=np.int32), len(self.vocab), spill)
        self._first += len(distinct)
        self._terms, self._tfs, self._distinct = array("i"), array("i"), array("i")

    def finish_parts(self) -> tuple[Bm25Index, Iterator[tuple[np.ndarray, np.ndarray]], int]:
        """The index without its score matrix's data and indices (empty), the (scores, documents) pieces of those in
        order (each read from the runs as it is asked for; the builder is spent once they are consumed), and the
        number of entries they hold."""
        self._flush(spill=False)
        n, n_terms = len(self._lengths), len(self.vocab)
        lengths = np.array(self._lengths, dtype=np.int32)
        df = self._df
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)  # bm25s: math.log, stored float32
        norm = K1 * ((1 - B) + B * lengths / float(lengths.mean() if n else 1.0))  # float64, per document
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        sorted_terms = sorted(self.vocab)  # code point order is UTF-8 byte order (no encoded copy of each term)
        term_ids = np.array([self.vocab[t] for t in sorted_terms], dtype=np.int32)
        offsets = np.zeros(n + 1, dtype=np.int64)
        offsets[1:] = np.array(self._id_ends, dtype=np.int64)
        ids = Strings(np.frombuffer(bytes(self._ids), dtype=np.uint8), offsets)
        index = Bm25Index(ids, Strings.of(sorted_terms), term_ids, np.zeros(0, np.float32), np.zeros(0, np.int32),
                          indptr)
        runs = self._runs
        self.vocab, self._ids, self._id_ends, self._lengths = {}, bytearray(), array("q"), array("i")
        self._df, self._runs, self._first = np.zeros(0, dtype=np.int64), Runs(self.spill_dir), 0

        def pieces() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            try:
                yield from runs.postings(df, idf, norm, SLICE)
            finally:
                runs.close()

        return index, pieces(), int(indptr[-1])

    def finish(self) -> Bm25Index:
        """The whole index in memory (tests, small builds; the store writes a case's straight to its file)."""
        index, pieces, _ = self.finish_parts()
        return index.filled(pieces)
