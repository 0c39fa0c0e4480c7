"""Case catalogs across many cases: a bounded LRU in memory, point reads for one chunk, paged streaming for readers
of a whole case. Real Chroma in tmp_path; vectors are random (storage and caching are checked, not ranking)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.app import App
from assistant.config import RetrievalSettings, load_settings
from assistant.index import store as store_module
from assistant.index.bm25 import Bm25Index
from assistant.index.keywords.scoring import Bm25Builder
from assistant.index.store import IndexStore
from assistant.ingest.batches import write_version
from assistant.types import Chunk


def add_case(store: IndexStore, case: str, n: int, word: str = "parcel") -> None:
    chunks = [Chunk(chunk_id=f"{case}:{i:03d}", case=case, source="notes.txt", locator=f"line {i}",
                    text=f"{case} note {i} about the {word}", start=0, end=10, content_hash=f"{case}{word}{i}",
                    source_hash=word, kind="text") for i in range(n)]
    vectors = np.random.default_rng(len(case)).standard_normal((n, 8)).astype(np.float32)
    write_version(store, case, "notes.txt", word, chunks, vectors)


def test_catalog_cache_evicts_the_least_recently_used_case(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx", catalog_cache_cases=2)
    for case in ("alpha", "bravo", "charlie"):
        add_case(store, case, 4)
    store.catalog("alpha")
    store.catalog("bravo")
    store.catalog("alpha")  # alpha is now the most recently used
    assert store.cached_cases() == ["bravo", "alpha"]
    chunks, bm25 = store.catalog("charlie")
    assert store.cached_cases() == ["alpha", "charlie"]  # bravo, least recently used, evicted
    assert chunks["charlie:002"].text == "charlie note 2 about the parcel"
    assert bm25.search("charlie", 10)
    reloaded, _ = store.catalog("bravo")  # an evicted case comes back whole (from its persisted catalog)
    assert sorted(reloaded) == [f"bravo:{i:03d}" for i in range(4)]
    assert store.cached_cases() == ["charlie", "bravo"]


def test_capacity_comes_from_the_setting_and_is_validated(tmp_path: Path) -> None:
    app = App(load_settings(index_dir=tmp_path / "idx", retrieval=RetrievalSettings(catalog_cache_cases=1)))
    for case in ("alpha", "bravo"):
        add_case(app.store, case, 3)
        app.store.catalog(case)
    assert app.store.cached_cases() == ["bravo"]
    with pytest.raises(ValueError, match="catalog_cache_cases"):
        RetrievalSettings(catalog_cache_cases=0)


def test_get_chunk_is_a_point_read_and_never_stale(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx")
    add_case(store, "alpha", 5)
    got = store.get_chunk("alpha", "alpha:003")
    assert got is not None and got.text == "alpha note 3 about the parcel" and got.meta["locator"] == "line 3"
    assert store.get_chunk("alpha", "alpha:999") is None
    assert store.cached_cases() == []  # one chunk did not load the whole case
    store.catalog("alpha")
    add_case(store, "alpha", 5, word="van")  # re-ingest: a new generation, the cached catalog is stale
    fresh = store.get_chunk("alpha", "alpha:003")
    assert fresh is not None and fresh.text == "alpha note 3 about the van"


def test_app_get_chunk_reads_one_chunk_without_the_catalog(tmp_path: Path) -> None:
    app = App(load_settings(index_dir=tmp_path / "idx"))
    add_case(app.store, "alpha", 3)
    passage = app.get_chunk("alpha", "alpha:001")
    assert passage is not None and passage.text == "alpha note 1 about the parcel"
    assert app.get_chunk("bravo", "alpha:001") is None
    assert app.store.cached_cases() == []


@pytest.mark.parametrize("page", [3, 5, 7])
def test_iter_chunks_streams_every_chunk_across_page_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                page: int) -> None:
    monkeypatch.setattr(store_module, "TEXT_PAGE", page)
    store = IndexStore(tmp_path / "idx")
    add_case(store, "alpha", 10)
    ids = [c.chunk_id for c in store.iter_chunks("alpha")]
    assert sorted(ids) == [f"alpha:{i:03d}" for i in range(10)]
    assert store.cached_cases() == []


def test_ingest_builds_the_keyword_index_so_the_first_question_only_loads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "note.txt").write_text("The parcel was left at the garage on North Road before the van arrived.\n")
    app = App(load_settings(index_dir=tmp_path / "idx"))
    report = app.ingest([folder], "alpha", progress=False)
    assert len(report.ingested) == 1 and report.timings["finalize"] > 0
    assert app.store.cached_keywords() == ["alpha"]
    assert app.store.cached_cases() == []  # the finalize streamed the case: no texts kept in memory

    def no_build(*args: object, **kwargs: object) -> Bm25Index:
        raise AssertionError("BM25 was rebuilt at question time")

    monkeypatch.setattr(Bm25Builder, "finish_parts", no_build)  # every build ends there (finish calls it too)
    fresh = IndexStore(tmp_path / "idx")  # a fresh process: loads what ingest built
    bm25 = fresh.keyword_index("alpha")
    assert len(bm25.ids) == 1 and bm25.search("parcel garage", 5) and fresh.cached_cases() == []
    again = app.ingest([folder], "alpha", progress=False)
    assert again.unchanged == report.ingested and again.timings["finalize"] == 0.0


def test_a_failed_finalize_keeps_the_ingest_and_the_first_question_builds_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "note.txt").write_text("The parcel was left at the garage on North Road.\n")
    app = App(load_settings(index_dir=tmp_path / "idx"))

    def disk_full(case: str) -> int:
        raise OSError("no space left on device")

    monkeypatch.setattr(app.store, "finalize", disk_full)
    report = app.ingest([folder], "alpha", progress=False)
    assert len(report.ingested) == 1 and report.exit_code == 0
    assert any("keyword index not built at ingest (OSError: " in note for _, note in report.notes)
    chunks, bm25 = IndexStore(tmp_path / "idx").catalog("alpha")
    assert len(chunks) == 1 and bm25.search("parcel", 5)


def test_a_question_loads_only_the_keyword_index_and_reads_its_passages_by_id(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "idx", catalog_cache_cases=1)
    add_case(store, "alpha", 6)
    add_case(store, "bravo", 6, word="van")
    store.finalize("alpha")
    store.finalize("bravo")  # evicts alpha's catalog
    fresh = IndexStore(tmp_path / "idx", catalog_cache_cases=1)  # a new process
    bm25 = fresh.keyword_index("alpha")
    hits = [cid for cid, _ in bm25.search("alpha parcel note", 3)]
    assert len(hits) == 3 and all(h.startswith("alpha:") for h in hits)
    got = fresh.get_chunks("alpha", [*hits, "alpha:999"])
    assert sorted(got) == sorted(hits) and got[hits[0]].meta["case"] == "alpha"
    assert fresh.cached_cases() == []  # no chunk texts were loaded for the question
    add_case(fresh, "alpha", 6, word="garage")  # a new generation: the keyword index is rebuilt, never stale
    assert fresh.keyword_index("alpha").search("garage", 3)
