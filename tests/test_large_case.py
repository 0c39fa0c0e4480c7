"""A case larger than one Chroma read: more chunks than SQLite's 32,766 query variables, which one unpaged `get`
cannot return. Real Chroma in tmp_path; vectors are random (this checks storage and the keyword catalog, not
ranking)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.index.store import IndexStore
from assistant.ingest.batches import write_version
from assistant.types import Chunk

N_CHUNKS = 33_000


@pytest.mark.slow
def test_catalog_reads_a_case_beyond_one_chroma_read(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx")
    chunks = [Chunk(chunk_id=f"c{i:05d}", case="big", source="phone.csv", locator=f"msg {i}",
                    text=f"message {i} about parcel number {i * 7}", start=0, end=10, content_hash=f"h{i}",
                    source_hash="s", kind="text") for i in range(N_CHUNKS)]
    vectors = np.random.default_rng(0).standard_normal((N_CHUNKS, 8)).astype(np.float32)
    write_version(store, "big", "phone.csv", "s", chunks, vectors)
    catalog, bm25 = store.catalog("big")
    assert len(catalog) == N_CHUNKS == store.count("big")
    assert catalog["c32999"].text == "message 32999 about parcel number 230993"
    assert bm25 is not None
