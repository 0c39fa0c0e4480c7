"""What retrieval filters read of every chunk (source, entity types, message senders and time span), kept as compact
per-row arrays beside the keyword index instead of the case's whole catalog: a filtered question on a 150k-chunk case
then holds a few bytes per chunk, not every text (docs/scale.md). Built in the keyword index's streamed pass and saved
in the same file, so both always describe the same rows."""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np

from assistant.types import RetrievalFilters


class FilterColumns:
    """Row i describes the keyword index's document i. Strings are interned into small vocabularies; senders and
    entity types are lists per row (`*_ptr[i]:*_ptr[i+1]` slices row i's ids)."""

    def __init__(self, arrays: Mapping[str, np.ndarray], names: Mapping[str, list[str]]) -> None:
        self.arrays = dict(arrays)
        self.names = {k: list(v) for k, v in names.items()}

    def mask(self, filters: RetrievalFilters) -> np.ndarray:
        """Rows that pass `filters`, with the rules retrieval always applied to a chunk's metadata: source equal;
        entity type among the chunk's; sender (case-insensitive, trimmed) among a message window's senders; the
        window's span [ts_start, ts_end] meeting [date_from, date_to] (ISO strings compared as text)."""
        a = self.arrays
        keep = np.ones(len(a["source"]), dtype=bool)
        if filters.source:
            keep &= a["source"] == _index(self.names["source"], filters.source)
        if filters.entity_type:
            keep &= _rows_with(a["type_ptr"], a["type_ids"], _index(self.names["type"], filters.entity_type))
        if filters.sender or filters.date_from or filters.date_to:
            keep &= a["messages"]
            if filters.sender:
                wanted = _index(self.names["sender"], filters.sender.strip().lower())
                keep &= _rows_with(a["sender_ptr"], a["sender_ids"], wanted)
            if filters.date_from:
                keep &= ~(a["ts_end"] < filters.date_from.encode())
            if filters.date_to:
                width = len(filters.date_to.encode())
                keep &= ~(a["ts_start"].astype(f"S{width}") > filters.date_to.encode())
        return keep

    def to_arrays(self) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
        return self.names, self.arrays


class ColumnsBuilder:
    def __init__(self) -> None:
        self._vocab: dict[str, dict[str, int]] = {"source": {}, "type": {}, "sender": {}}
        self._ints: dict[str, array[int]] = {k: array("i") for k in ("source", "type_ids", "sender_ids")}
        self._ptrs: dict[str, array[int]] = {"type_ptr": array("q", [0]), "sender_ptr": array("q", [0])}
        self._messages = array("b")
        self._ts: dict[str, list[bytes]] = {"ts_start": [], "ts_end": []}

    def add(self, meta: Mapping[str, Any]) -> None:
        self._ints["source"].append(self._id("source", str(meta.get("source", ""))))
        types = meta.get("entity_types") or []
        self._ints["type_ids"].extend(self._id("type", str(t)) for t in types)
        self._ptrs["type_ptr"].append(len(self._ints["type_ids"]))
        senders = [s.strip().lower() for s in str(meta.get("senders", "")).split(",")]
        self._ints["sender_ids"].extend(self._id("sender", s) for s in dict.fromkeys(senders))
        self._ptrs["sender_ptr"].append(len(self._ints["sender_ids"]))
        self._messages.append(meta.get("kind") == "messages")
        for key in ("ts_start", "ts_end"):
            self._ts[key].append(str(meta.get(key, "")).encode())

    def _id(self, kind: str, value: str) -> int:
        vocab = self._vocab[kind]
        return vocab.setdefault(value, len(vocab))

    def finish(self) -> FilterColumns:
        arrays = {k: np.array(v, dtype=np.int32) for k, v in self._ints.items()}
        arrays.update({k: np.array(v, dtype=np.int64) for k, v in self._ptrs.items()})
        arrays["messages"] = np.array(self._messages, dtype=bool)
        arrays.update({k: np.array(v, dtype="S") if v else np.zeros(0, "S1") for k, v in self._ts.items()})
        names = {k: sorted(v, key=v.__getitem__) for k, v in self._vocab.items()}
        return FilterColumns(arrays, names)


def _index(names: list[str], value: str) -> int:
    try:
        return names.index(value)
    except ValueError:
        return -1  # matches no row


def _rows_with(ptr: np.ndarray, ids: np.ndarray, wanted: int) -> np.ndarray:
    """Rows whose list (ids[ptr[i]:ptr[i+1]]) holds `wanted`."""
    rows = np.zeros(len(ptr) - 1, dtype=bool)
    if wanted >= 0 and len(ids):
        hits = np.flatnonzero(ids == wanted)
        rows[np.searchsorted(ptr, hits, side="right") - 1] = True
    return rows
