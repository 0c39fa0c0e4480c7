"""`index.languages.versions.prune` of one range of a version (a slice of a large report, a split file's part) on
real embedded Chroma: only the range's entries whose chunk is not kept go, read by chunk id; other ranges', other
versions' and kept chunks' entries stay; without a range, every entry of the version not kept goes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.index.languages import versions
from assistant.index.store import IndexStore

CASE = "prune"
NEW, OLD = "a" * 64, "b" * 64


def _entries(store: IndexStore) -> set[str]:
    return {eid for _, eid, _ in versions.entries(store, CASE, None)}


def test_a_range_prune_touches_only_that_ranges_entries_not_kept(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx")
    rng = np.random.default_rng(0)
    for space, dim in (("ml", 384), ("gm", 768)):
        rows = [(f"r.xml:{n}", sha) for n in range(6) for sha in (NEW, OLD)]
        col = store.side_collection(CASE, space)
        col.upsert(ids=[f"{space}-{cid}-{sha[0]}" for cid, sha in rows],
                   embeddings=rng.standard_normal((len(rows), dim)).tolist(),
                   metadatas=[{"chunk_id": cid, "source": "r.xml", "source_hash": sha} for cid, sha in rows])
    every = _entries(store)
    assert len(every) == 24
    # the slice holds chunks 2-4; chunk 3 was committed (kept), 2 and 4 not: only their NEW entries go
    assert versions.prune(store, CASE, "r.xml", NEW, keep={"r.xml:3"}, within=["r.xml:2", "r.xml:3", "r.xml:4"]) == 4
    gone = {f"{s}-r.xml:{n}-a" for s in ("ml", "gm") for n in (2, 4)}
    assert _entries(store) == every - gone
    # no range: every NEW entry whose chunk is not kept
    assert versions.prune(store, CASE, "r.xml", NEW, keep={"r.xml:0", "r.xml:3"}) == 4  # 1 and 5 of each space
    left = {f"{s}-r.xml:{n}-a" for s in ("ml", "gm") for n in (0, 3)} | {e for e in every if e.endswith("-b")}
    assert _entries(store) == left
