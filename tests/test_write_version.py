"""`ingest.batches.write_version` (benchmarks and store tests that bring their own vectors) writes each chunk with its
own vector, through the same batched path as an ingest, which tags batch k+1 on a thread while batch k is embedded."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.index.store import IndexStore
from assistant.ingest import batches
from assistant.ingest.batches import write_version
from assistant.types import Chunk


class _Eager:
    """The look-ahead's schedule at its extreme: batch k+1 is tagged before batch k's embed call starts."""

    def __init__(self, *_: Any, **__: Any) -> None:
        pass

    def __enter__(self) -> _Eager:
        return self

    def __exit__(self, *_: Any) -> None:
        pass

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done


@pytest.mark.parametrize("schedule", ["threads", "tag_first"])
def test_every_chunk_gets_its_own_vector_across_many_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             schedule: str) -> None:
    if schedule == "tag_first":
        monkeypatch.setattr(batches, "ThreadPoolExecutor", _Eager)
    n, dim = 320, 8
    chunks = [Chunk(chunk_id=f"c:s:{i:04d}", case="c", source="s.csv", locator=f"msg {i}", text=f"message {i}",
                    start=0, end=9, content_hash=f"h{i}", source_hash="sha", kind="text") for i in range(n)]
    vectors = np.random.default_rng(7).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = IndexStore(tmp_path / "idx")
    write_version(store, "c", "s.csv", "sha", chunks, vectors, batch=8)  # 40 batches: the look-ahead runs 39 times
    got = store.side_collection("c", "").get(ids=[c.chunk_id for c in chunks], include=["embeddings"])
    stored = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
    assert len(stored) == n == store.count("c")
    wrong = [i for i, c in enumerate(chunks) if not np.allclose(stored[c.chunk_id], vectors[i], atol=1e-6)]
    assert wrong == []
