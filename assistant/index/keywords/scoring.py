"""BM25 (Lucene variant: k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5))) as a term-major sparse matrix of
precomputed per-(term, document) scores, the layout bm25s uses, built by our own code so that a case can be indexed
page by page: `Bm25Builder.add` keeps only compact arrays of (term id, term frequency) per document, and `finish`
computes document frequencies, lengths and scores once at the end. Scores equal bm25s 0.3.16's (its float32 storage,
its float64 arithmetic, its float32 accumulation of a query's columns; tests/test_keyword_stream.py checks them
against bm25s on SciFact). Saved as plain arrays (persisted.py), loaded without parsing a string per chunk."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.index.keywords.columns import FilterColumns
from assistant.index.keywords.strings import Strings
from assistant.text.lexicon import search_terms

K1, B = 1.5, 0.75
SLICE = 1 << 20  # entries scored at a time in `finish`
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
        if len(hit) > k:
            hit = hit[np.argpartition(-scores[hit], k - 1)[:k]]
        hit = hit[np.lexsort((hit, -scores[hit]))]
        return [(self.ids[int(d)], float(scores[d])) for d in hit]


class Bm25Builder:
    """Documents added one at a time (a page of a case at a time); memory ~12 bytes per distinct term per document
    plus the ids and vocabulary, never the texts."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self._terms = array("i")  # term id of each (document, distinct term) entry, documents in order
        self._tfs = array("i")  # its frequency in the document
        self._distinct = array("i")  # entries per document
        self._lengths = array("i")  # tokens per document

    def add(self, chunk_id: str, tokens: list[str]) -> None:
        counts = Counter(tokens or [EMPTY])
        vocab = self.vocab
        self.ids.append(chunk_id)
        self._terms.extend(vocab.setdefault(t, len(vocab)) for t in counts)
        self._tfs.extend(counts.values())
        self._distinct.append(len(counts))
        self._lengths.append(len(tokens) or 1)

    def finish(self) -> Bm25Index:
        n, n_terms = len(self.ids), len(self.vocab)
        terms = np.frombuffer(self._terms, dtype=np.int32) if n else np.zeros(0, np.int32)
        tfs = np.frombuffer(self._tfs, dtype=np.int32) if n else np.zeros(0, np.int32)
        lengths = np.frombuffer(self._lengths, dtype=np.int32) if n else np.zeros(0, np.int32)
        docs = np.repeat(np.arange(n, dtype=np.int32), np.frombuffer(self._distinct, dtype=np.int32)) if n \
            else np.zeros(0, np.int32)
        df = np.bincount(terms, minlength=n_terms)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)  # bm25s: math.log, stored float32
        norm = K1 * ((1 - B) + B * lengths / float(lengths.mean() if n else 1.0))  # float64, per document
        scores = np.empty(len(terms), dtype=np.float32)
        for a in range(0, len(terms), SLICE):  # float64 temporaries a slice at a time
            tf = tfs[a:a + SLICE].astype(np.float32)
            scores[a:a + SLICE] = idf[terms[a:a + SLICE]].astype(np.float64) * (tf / (norm[docs[a:a + SLICE]] + tf))
        order = np.argsort(terms, kind="stable")  # term-major, documents ascending within a term
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        sorted_terms = sorted(self.vocab, key=lambda t: t.encode("utf-8"))
        term_ids = np.array([self.vocab[t] for t in sorted_terms], dtype=np.int32)
        index = Bm25Index(Strings.of(self.ids), Strings.of(sorted_terms), term_ids, scores[order], docs[order], indptr)
        self.ids, self.vocab = [], {}
        self._terms, self._tfs, self._distinct, self._lengths = array("i"), array("i"), array("i"), array("i")
        return index

