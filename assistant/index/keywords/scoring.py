"""BM25 (Lucene variant: k1 1.5, b 0.75, idf log(1 + (N - df + 0.5) / (df + 0.5))) as a term-major sparse matrix of
precomputed per-(term, document) scores, the layout bm25s uses, built by our own code so that a case can be indexed
page by page: `Bm25Builder.add` keeps only compact arrays of (term id, term frequency) per document, and `finish`
computes document frequencies, lengths and scores once at the end. Scores equal bm25s 0.3.16's (its float32 storage
and its float64 arithmetic; tests/test_keyword_stream.py checks them against bm25s on real text). A query adds up the
columns of its terms with `np.bincount` (bm25s without numba uses `np.add.at`, several times slower at 100k chunks,
benchmarks/bench_scale.py)."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.text.lexicon import search_terms

K1, B = 1.5, 0.75
EMPTY = "\u2205"  # the token of a document with no words, so it still counts in N and the average length


class Bm25Index:
    """Ids are ours (row i of the matrix is ids[i]); `indptr[t]:indptr[t+1]` slices term t's documents and scores."""

    def __init__(self, ids: list[str], vocab: dict[str, int], data: np.ndarray, indices: np.ndarray,
                 indptr: np.ndarray) -> None:
        self.ids = ids
        self.vocab = vocab
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
        """Approximate memory held (arrays, ids and vocabulary), for the byte-bounded cache."""
        strings = sum(len(s) + 56 for s in self.ids) + sum(len(s) + 120 for s in self.vocab)
        return int(self.data.nbytes + self.indices.nbytes + self.indptr.nbytes) + strings

    def to_arrays(self) -> tuple[dict[str, object], dict[str, np.ndarray]]:
        """A JSON-able header and numeric arrays from which `from_arrays` rebuilds the same index."""
        return {"num_docs": len(self.ids), "params": {"k1": K1, "b": B, "method": "lucene"}}, {
            "ids": _json_bytes(self.ids), "vocab": _json_bytes(sorted(self.vocab, key=self.vocab.__getitem__)),
            "data": self.data, "indices": self.indices, "indptr": self.indptr}

    @classmethod
    def from_arrays(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Bm25Index:
        import json

        ids = [str(i) for i in json.loads(arrays["ids"].tobytes())]
        if len(ids) != int(header["num_docs"]):
            raise ValueError("keyword index ids do not match its header")
        terms = json.loads(arrays["vocab"].tobytes())
        return cls(ids, {str(t): n for n, t in enumerate(terms)}, arrays["data"], arrays["indices"],
                   arrays["indptr"])

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.search_tokens(search_terms(query), k)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Every document's score for the query tokens (a repeated token counts again, as in bm25s)."""
        terms = [self.vocab[t] for t in tokens if t in self.vocab]
        if not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        rows = np.concatenate([self.indices[self.indptr[t]:self.indptr[t + 1]] for t in terms])
        vals = np.concatenate([self.data[self.indptr[t]:self.indptr[t + 1]] for t in terms])
        return np.bincount(rows, weights=vals, minlength=len(self.ids)).astype(np.float32)

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
        tfs = np.frombuffer(self._tfs, dtype=np.int32).astype(np.float32) if n else np.zeros(0, np.float32)
        lengths = np.frombuffer(self._lengths, dtype=np.int32) if n else np.zeros(0, np.int32)
        docs = np.repeat(np.arange(n, dtype=np.int32), np.frombuffer(self._distinct, dtype=np.int32)) if n \
            else np.zeros(0, np.int32)
        df = np.bincount(terms, minlength=n_terms)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)  # bm25s: math.log, stored float32
        norm = K1 * ((1 - B) + B * lengths / float(lengths.mean() if n else 1.0))  # float64, per document
        scores = (idf[terms].astype(np.float64) * (tfs / (norm[docs] + tfs))).astype(np.float32)
        order = np.argsort(terms, kind="stable")  # term-major, documents ascending within a term
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        index = Bm25Index(self.ids, self.vocab, scores[order], docs[order], indptr)
        self.ids, self.vocab = [], {}
        self._terms, self._tfs, self._distinct, self._lengths = array("i"), array("i"), array("i"), array("i")
        return index


def _json_bytes(values: list[str]) -> np.ndarray:
    import json

    return np.frombuffer(json.dumps(values, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
