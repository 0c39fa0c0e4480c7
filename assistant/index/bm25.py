"""The keyword side of a case: what BM25 indexes for a chunk (its text, its entities' normalised values, numeric dates
spelled out) and the BM25 index itself (bm25s over our own tokens)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.text.lexicon import MONTH_NAMES, search_terms
from assistant.types import Entity

BM25_FORMAT = 4  # bump when bm25_text/bm25_tokenize change: persisted BM25 files of other formats are rebuilt


def bm25_tokenize(text: str) -> list[str]:
    """Lower-case unicode words, search stopwords removed, Snowball-stemmed. Digit runs are kept whole."""
    return search_terms(text)


class Bm25Index:
    """BM25 (bm25s) over pre-tokenised documents; ids are ours."""

    def __init__(self, ids: list[str], model: Any) -> None:
        self.ids = ids
        self._model = model

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> Bm25Index:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # the library sets itself to DEBUG on import
        model = bm25s.BM25()
        if ids:
            model.index([bm25_tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(list(ids), model)

    def to_arrays(self) -> tuple[dict[str, object], dict[str, np.ndarray]]:
        """Plain data (a JSON-able header and numeric arrays) from which `from_arrays` rebuilds the same index."""
        scores = getattr(self._model, "scores", None) if self.ids else None
        if not scores:
            return {"ids": self.ids, "vocab": {}, "num_docs": 0}, {}
        header = {"ids": self.ids, "vocab": self._model.vocab_dict, "num_docs": int(scores["num_docs"]),
                  "params": {"k1": self._model.k1, "b": self._model.b, "delta": self._model.delta,
                             "method": self._model.method, "idf_method": self._model.idf_method}}
        arrays = {name: np.asarray(scores[name]) for name in ("data", "indices", "indptr")}
        if getattr(self._model, "nonoccurrence_array", None) is not None:  # only the bm25l / bm25+ variants
            arrays["nonoccurrence"] = np.asarray(self._model.nonoccurrence_array)
        return header, arrays

    @classmethod
    def from_arrays(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Bm25Index:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        ids = [str(i) for i in header["ids"]]
        if not ids or not arrays:
            return cls(ids, bm25s.BM25())
        model = bm25s.BM25(**header["params"])
        model.vocab_dict = {str(k): int(v) for k, v in header["vocab"].items()}
        model.unique_token_ids_set = set(model.vocab_dict.values())
        model.scores = {**{name: arrays[name] for name in ("data", "indices", "indptr")},
                        "num_docs": int(header["num_docs"])}
        model.nonoccurrence_array = arrays.get("nonoccurrence")
        return cls(ids, model)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return self.search_tokens(bm25_tokenize(query), k)

    def search_tokens(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        if not self.ids or not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def entities_from_meta(text: str, meta: dict[str, Any]) -> tuple[Entity, ...]:
    raw = json.loads(str(meta.get("entities_json", "[]")))
    return tuple(Entity(type=t, start=s, end=e, text=text[s:e], score=sc, normalized=n) for t, s, e, sc, n in raw)


_ISO_DATE = re.compile(r"\b(20\d\d|19\d\d)-(\d\d)-(\d\d)")
_UK_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")


def date_words(text: str) -> list[str]:
    """Numeric dates (ISO timestamps, dd/mm/yyyy) spelled out as '14 March 2023', so a question that names the
    month finds a message stamped 2023-03-14T19:02 or a statement that wrote 14/03/2023."""
    found: dict[str, None] = {}
    for y, m, d in _ISO_DATE.findall(text):
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    for d, m, y in _UK_DATE.findall(text):
        if 1 <= int(m) <= 12:
            found[f"{int(d)} {MONTH_NAMES[int(m) - 1]} {y}"] = None
    return list(found)


def bm25_text(text: str, meta: dict[str, Any]) -> str:
    """What BM25 indexes: the chunk text plus its entities' normalised values, so identifiers match across
    written forms (07700 900418 / 07700900418 / +447700900418), plus numeric dates spelled out."""
    from assistant.pii.terms import terms_for_entities

    extra = date_words(text) + terms_for_entities(entities_from_meta(text, meta))
    return text + ("\n" + " ".join(extra) if extra else "")
