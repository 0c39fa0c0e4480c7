"""`assistant fsck` and the link rows an ingest in slices stages (issue 13, `LinkStore.stage`): rows of a source that
has a pending version wait for its resume and are no problem; rows of a source with no pending version (its pending
version dropped, or the file since indexed whole by older code) are read by no one and dropped by no ingest, so fsck
lists them and `--repair` deletes them. Real Chroma, manifest and links store; vectors brought by the test (no model).
The crash itself, with a real SIGKILL: tests/test_sliced_kill.py."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.index.manifest import SourceRow
from assistant.ingest.batches import write_version
from assistant.links.indexer import ChunkView, chunk_mentions, index_source
from assistant.types import Chunk

CASE = "staged"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    """A case serving one two-chunk note, its links indexed, its keyword index built."""
    from assistant.app import App
    from assistant.config import load_settings

    app = App(load_settings(index_dir=tmp_path / "index"))
    chunks = [Chunk(chunk_id=f"{CASE}:note.txt:{i}", case=CASE, source="note.txt", locator=f"line {i}",
                    text=f"The grey trawler left berth {i}.", start=0, end=10, content_hash=f"h{i}",
                    source_hash="n1", kind="text") for i in range(2)]
    vectors = np.eye(2, 8, dtype=np.float32)
    with app.store.manifest.case_lock(CASE):
        write_version(app.store, CASE, "note.txt", "n1", chunks, vectors)
        app.store.finalize(CASE)
    index_source(app.link_store, CASE, "note.txt", [ChunkView(c.chunk_id, c.source, c.locator, c.text) for c in chunks])
    return app


def _stage(app: Any, source: str) -> int:
    """Stage two chunks' link rows for `source`; how many rows (mentions and aliases)."""
    views = [ChunkView(f"{CASE}:{source}:0", source, "msg 1", "ring 07700 900418"),
             ChunkView(f"{CASE}:{source}:1", source, "msg 2", 'Marek WOLSKI, also known as "Wolfie"')]
    found = [chunk_mentions(v) for v in views]
    app.link_store.stage(CASE, source, found, fresh=True)
    return sum(len(c.values) + len(c.aliases) for c in found)


def _fsck(app: Any, capsys: pytest.CaptureFixture[str], repair: bool = False) -> tuple[int, dict[str, Any]]:
    from assistant.cli.integrity import run_fsck

    code = run_fsck(argparse.Namespace(case=CASE, repair=repair, json=True, wait=0.0), app)
    return code, dict(json.loads(capsys.readouterr().out))


def test_staged_link_rows_of_a_pending_version_wait_for_it_and_go_with_it_on_repair(
        app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, found = _fsck(app, capsys)
    assert code == 0 and found["clean"], found
    app.store.manifest.begin(CASE, SourceRow("report.xml", "r1", "", 0))  # a sliced ingest stopped part way
    n = _stage(app, "report.xml")
    code, found = _fsck(app, capsys)
    assert code == 1 and [p["kind"] for p in found["problems"]] == ["pending"], found  # the resume drops them
    code, fixed = _fsck(app, capsys, repair=True)  # or repair: the pending version dropped, and its staged rows
    assert code == 0 and fixed["clean"], fixed
    assert f"report.xml: deleted {n} staged link row(s) of an ingest that stopped" in fixed["repaired"]
    assert app.link_store.staged(CASE) == {} and app.store.manifest.pending(CASE) == []


def test_fsck_lists_staged_link_rows_with_no_pending_version_and_repair_deletes_them(
        app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    n = _stage(app, "report.xml")  # its pending version was dropped (fsck --repair of older code)
    assert n >= 3 and app.link_store.staged(CASE) == {"report.xml": n}  # a phone number, a name, an alias pair
    code, found = _fsck(app, capsys)
    assert code == 1, found
    [problem] = found["problems"]
    assert problem["kind"] == "staged_links" and problem["source"] == "report.xml"
    assert problem["detail"].startswith(f"{n} link row(s) staged by an ingest in slices that stopped, for 1 source(s)")
    code, fixed = _fsck(app, capsys, repair=True)
    assert code == 0 and fixed["clean"], fixed
    assert f"report.xml: deleted {n} staged link row(s) of an ingest that stopped" in fixed["repaired"]
    assert app.link_store.staged(CASE) == {}
    assert app.link_store.case_sources(CASE) == {"note.txt": 2} and app.store.count(CASE) == 2  # nothing else touched
