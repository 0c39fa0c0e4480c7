"""A large message file indexed a slice of whole threads at a time (issue 13, `ingest.slices.index`) ends exactly as
the same file indexed whole: chunk ids, texts and metadata, the manifest's count, the duplicate-key rows (with a
message merged into another source), the links rows and the report's notes; and a failure part way leaves a
version that is never served and that the next ingest resumes to the same end. Real Chroma, Presidio and embedder;
the slice size is made small so that a report of ~50 messages is cut into several slices."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from assistant.index.fsck import check
from assistant.ingest.slices import index as sliced_index
from tests.test_slices import report

BIG = "report.xml"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=tmp_path_factory.mktemp("index"))
    settings.llm.backend = "extractive"
    settings.ingest.commit_batch = 8  # several batches a slice
    return App(settings)


def state(app: Any, case: str) -> dict[str, Any]:
    """Everything an ingest leaves for one case, with the case's name taken out of ids."""
    def plain(value: Any) -> Any:
        return value.replace(case, "CASE") if isinstance(value, str) else value

    got = app.store.side_collection(case, "").get(include=["documents", "metadatas"])
    chunks = {plain(i): (d, {k: plain(v) for k, v in (m or {}).items()})
              for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
    keys = sorted(tuple(plain(v) for v in row) for row in app.ingestor.dedup.table.db.rows(
        "SELECT source, sha256, key, is_id, has_id, content, message_id, status, chunk_ids, holder, holder_sha, "
        "holder_msg, provenance FROM msg_keys WHERE case_id=?", (case,)))
    links = {plain(k): v for k, v in app.link_store.chunk_values(case).items()}
    served = {s: (r.sha256, r.n_chunks) for s, r in app.store.manifest.served(case).items()}
    return {"chunks": chunks, "keys": keys, "links": links, "served": served}


def ingest_both(app: Any, tmp_path: Path, case: str) -> Any:
    first = app.ingest([tmp_path / "holder"], case, progress=False)  # holds chat 2: merged from the big report
    assert first.ingested == ["holder.xml"], first.failed
    return app.ingest([tmp_path / "big"], case, progress=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    (root / "holder").mkdir()
    (root / "big").mkdir()
    report(root / "holder" / "holder.xml", only=[2])
    report(root / "big" / BIG, only=[0, 1, 2, 3, 4])  # 45 messages, over-long ones split in parts
    return root


@pytest.fixture(scope="module")
def whole(app: Any, files: Path) -> tuple[Any, dict[str, Any]]:
    done = ingest_both(app, files, "whole")  # the default slice size: this report is indexed whole
    assert done.ingested == [BIG], done.failed
    return done, state(app, "whole")


def test_a_report_indexed_in_slices_ends_as_the_report_indexed_whole(
        app: Any, files: Path, whole: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(app.settings.ingest, "slice_messages", 9)
    with caplog.at_level(logging.INFO, logger=sliced_index.__name__):
        cut = ingest_both(app, files, "sliced")
    assert cut.ingested == [BIG], cut.failed
    assert sum("slice indexed" in r.getMessage() for r in caplog.records) >= 5
    notes = [n for s, n in cut.notes if s == BIG]
    assert any("already indexed from holder.xml" in n for n in notes)  # chat 2 merged, not indexed again
    assert notes == [n for s, n in whole[0].notes if s == BIG] and cut.chunks == whole[0].chunks
    a = whole[1]
    assert a["served"][BIG][1] == len([i for i in a["chunks"] if a["chunks"][i][1]["source"] == BIG])
    assert state(app, "sliced") == a
    assert check(app.store, "sliced").clean


def test_a_sliced_ingest_cut_short_is_never_served_and_resumes_to_the_same_end(
        app: Any, files: Path, whole: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.settings.ingest, "slice_messages", 9)
    tag, calls = app.ingestor.tag_chunks, [0]

    def failing(chunks: Any) -> Any:
        calls[0] += 1
        if calls[0] == 6:  # a few slices in (the disk under the index fills, say)
            raise OSError("no space left on device")
        return tag(chunks)

    monkeypatch.setattr(app.ingestor, "tag_chunks", failing)
    broken = ingest_both(app, files, "resumed")
    assert [s for s, _ in broken.failed] == [BIG] and broken.ingested == []
    assert BIG not in app.store.manifest.served("resumed")  # nothing of it served
    monkeypatch.setattr(app.ingestor, "tag_chunks", tag)
    again = app.ingest([files / "big"], "resumed", progress=False)
    assert again.ingested == [BIG], again.failed
    assert any(n.startswith("resumed: ") for s, n in again.notes if s == BIG)
    assert state(app, "resumed") == whole[1]
    assert check(app.store, "resumed").clean
