"""Issue 14, crash/concurrency/identity half: a changed file is swapped in atomically, a half-written version is never
served, a different file under a known name is refused, derived files are data-only and private, the hash is of the
parsed bytes, one writer per case, `fsck` and `remove`. Real App (Chroma in tmp_path, Presidio, the packaged
embedder); crashes are raised at the store's own kill points."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.errors import IngestError
from assistant.index import store as store_module
from assistant.index.durable import CaseLock, CaseLocked
from assistant.index.fsck import check, repair
from assistant.index.persisted import part_path, save_bm25, stamp_of
from assistant.ingest import batches as batches_module
from assistant.loaders import parse_source, read_source

V1 = "The blue van was parked by the quay at dawn.\n"
V2 = "The blue van left the quay before the storm.\n"
V3 = "The grey lorry waited behind the warehouse.\n"


class Crash(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way catches it."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    return App(load_settings(index_dir=tmp_path_factory.mktemp("idx")))


def _write(folder: Path, text: str, name: str = "notes.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _texts(app: Any, case: str, query: str) -> dict[str, str]:
    """Every passage each retrieval mode returns, by mode (all of them, not just the fused top)."""
    return {mode: " ".join(p.text for p in app.retriever.retrieve(case, query, top_k=10, mode=mode))
            for mode in ("bm25", "dense", "hybrid")}


def _crash_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    def kill(name: str) -> None:
        if name == point:
            raise Crash(point)
    monkeypatch.setattr(batches_module, "kill_point", kill)  # every version is written through ingest.batches


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_changed_file_is_swapped_in_under_new_ids_and_reported(app: Any, tmp_path: Path) -> None:
    root = _write(tmp_path / "A", V1)
    assert app.ingest([root], "swap", progress=False).ingested == ["notes.txt"]
    _write(root, V2)
    report = app.ingest([root], "swap", progress=False)
    assert report.replaced == [("notes.txt", _sha(V1), _sha(V2))] and report.ingested == ["notes.txt"]
    chunks, _ = app.store.catalog("swap")
    assert len(chunks) == 1 and "before the storm" in next(iter(chunks.values())).text
    assert all(_sha(V2)[:12] in cid for cid in chunks)
    assert app.store.census("swap") == {("notes.txt", _sha(V2)): list(chunks)}  # the old version is gone
    for text in _texts(app, "swap", "blue van quay").values():
        assert "before the storm" in text and "at dawn" not in text
    assert check(app.store, "swap").clean


def test_a_different_file_under_a_known_name_from_another_origin_is_refused(app: Any, tmp_path: Path) -> None:
    app.ingest([_write(tmp_path / "A", V1)], "origin", progress=False)
    other = _write(tmp_path / "B", V3)
    report = app.ingest([other], "origin", progress=False)
    assert not report.ingested and not report.replaced and report.exit_code == 2
    [(source, reason)] = report.failed
    assert source == "notes.txt" and "refused, not replaced" in reason and (tmp_path / "A").as_posix() in reason
    assert "assistant remove --case origin notes.txt" in reason
    assert "grey lorry" not in _texts(app, "origin", "grey lorry warehouse")["bm25"]
    row = app.store.source_state("origin", "notes.txt")
    assert row.sha256 == _sha(V1) and row.origin == (tmp_path / "A").resolve().as_posix()
    assert app.ingest([_write(tmp_path / "C", V1)], "origin", progress=False).unchanged == ["notes.txt"]  # same bytes


@pytest.mark.parametrize("point", ["chroma_add", "before_swap"])
def test_a_version_cut_off_before_the_swap_is_never_served(app: Any, tmp_path: Path, point: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    case = f"cut-{point.replace('_', '-')}"
    root = _write(tmp_path / "A", V2)
    app.ingest([root], case, progress=False)
    _write(root, V3)
    _crash_at(monkeypatch, point)
    with pytest.raises(Crash):
        app.ingest([root], case, progress=False)
    monkeypatch.undo()
    assert app.store.census(case)[("notes.txt", _sha(V3))]  # the new chunks are in Chroma ...
    for mode, text in _texts(app, case, "grey lorry warehouse blue van").items():
        assert "grey lorry" not in text and "blue van" in text, mode  # ... and no mode serves them
    report = check(app.store, case)
    assert [p.kind for p in report.problems] == ["pending"] and report.problems[0].chunk_ids
    repair(app.store, report)
    assert check(app.store, case).clean and app.store.census(case).keys() == {("notes.txt", _sha(V2))}
    resumed = app.ingest([root], case, progress=False)
    assert resumed.replaced == [("notes.txt", _sha(V2), _sha(V3))]
    assert "grey lorry" in _texts(app, case, "grey lorry warehouse")["bm25"] and check(app.store, case).clean


def test_an_old_version_left_after_the_swap_is_an_orphan_never_served(app: Any, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "A", V2)
    app.ingest([root], "after", progress=False)
    _write(root, V3)
    _crash_at(monkeypatch, "after_swap")
    with pytest.raises(Crash):
        app.ingest([root], "after", progress=False)
    monkeypatch.undo()
    for mode, text in _texts(app, "after", "grey lorry warehouse blue van").items():
        assert "grey lorry" in text and "blue van" not in text, mode
    report = check(app.store, "after")
    assert [p.kind for p in report.problems] == ["orphan_chunks"]  # the questions above rebuilt the keyword index
    repair(app.store, report)
    assert check(app.store, "after").clean and len(app.store.census("after")) == 1


def test_derived_files_are_data_only_private_and_a_planted_pickle_never_runs(app: Any, tmp_path: Path) -> None:
    app.ingest([_write(tmp_path / "A", V1)], "files", progress=False)
    app.store.catalog("files")  # the texts' file is written on the first whole-case read (links, timeline)
    index_dir = app.store.index_dir
    bm25_path = part_path(index_dir, "files", "bm25")
    assert stat.S_IMODE(os.stat(index_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(bm25_path.parent).st_mode) == 0o700
    for path in (bm25_path, part_path(index_dir, "files", "chunks"), index_dir / "manifest.sqlite"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    with np.load(bm25_path, allow_pickle=False) as npz:  # plain arrays and a JSON header
        assert json.loads(str(npz["header"]))["stamp"][1] == app.store.generation("files")
    marker = tmp_path / "ran"
    buf = io.BytesIO()
    np.savez(buf, header=np.array([_Payload(marker)], dtype=object))  # what an attacker could plant
    bm25_path.write_bytes(buf.getvalue())
    app.store._catalogs.pop("files")
    app.store._keywords.pop("files")
    assert app.store.keyword_index("files").search("blue van", 3)  # rebuilt, not loaded
    assert not marker.exists()


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_a_keyword_index_of_another_state_is_rebuilt_never_served(app: Any, tmp_path: Path) -> None:
    from assistant.index.bm25 import Bm25Index

    app.ingest([_write(tmp_path / "A", V1)], "stale", progress=False)
    wrong = stamp_of(app.store.generation("stale"), "0" * 64)  # right generation, another manifest
    save_bm25(app.store.index_dir, "stale", wrong, Bm25Index.build(["ghost"], ["blue van quay dawn"]))
    assert [p.kind for p in check(app.store, "stale").problems] == ["stale_bm25"]
    app.store._catalogs.pop("stale")
    app.store._keywords.pop("stale")
    hits = app.store.keyword_index("stale").search("blue van", 3)
    assert hits and "ghost" not in {cid for cid, _ in hits}
    assert check(app.store, "stale").clean  # serving it rebuilt and persisted a current one


def test_the_stored_hash_is_of_the_bytes_that_were_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, V1) / "notes.txt"
    read = read_source(path, tmp_path)
    path.write_text(V3, encoding="utf-8")  # changed after the read: the parse still sees what was hashed
    doc, _ = parse_source(read)
    assert doc.sha256 == _sha(V1) == read.sha256 and "blue van" in doc.text

    from assistant.loaders import phone
    from assistant.types import Document

    report = tmp_path / "report.xml"
    report.write_bytes(b"<report/>")

    def growing(p: Path, source: str, sha: str) -> tuple[Document, list[str]]:
        with p.open("ab") as fh:  # another process appends while the report is parsed from its path
            fh.write(b"<more/>")
        return Document(source=source, kind="messages", text="x", sha256=sha), []

    monkeypatch.setattr(phone, "load_path", growing)
    with pytest.raises(IngestError, match="file changed while it was read"):
        parse_source(read_source(report, tmp_path))


HOLD = """
import sys, time
from pathlib import Path
from assistant.index.durable import CaseLock
lock = CaseLock(Path(sys.argv[1]), sys.argv[2])
lock.acquire("test holder")
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
"""


def test_a_second_writer_fails_clearly_or_waits_and_readers_never_block(app: Any, tmp_path: Path) -> None:
    root = _write(tmp_path / "A", V1)
    app.ingest([root], "locked", progress=False)
    _write(root, V2)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(app.store.index_dir), "locked", "3"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(CaseLocked, match=f"pid {holder.pid} \\(test holder\\).*--wait SECONDS"):
            app.ingest([root], "locked", progress=False)
        assert "at dawn" in _texts(app, "locked", "blue van")["bm25"]  # a reader is served while the case is locked
        with pytest.raises(CaseLocked):
            app.delete_case("locked")  # nor is a case deleted under a writer
        told: list[str] = []
        t0 = time.monotonic()
        report = app.ingest([root], "locked", progress=False, wait=60, on_wait=told.append)
        assert time.monotonic() - t0 > 0.5 and report.replaced and len(told) == 1 and f"pid {holder.pid}" in told[0]
    finally:
        holder.kill()
        holder.wait()
    with CaseLock(app.store.index_dir, "locked"):  # released by the ingest (and by the holder's death)
        pass


def test_remove_deletes_a_source_from_every_store_and_audits_it(app: Any, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import build_parser

    root = _write(_write(tmp_path / "A", V1), "Call 07700 900418 about the kite.\n", "kite.txt")
    app.ingest([root], "remove", progress=False)
    assert "remove" in app.link_store.cases() and "kite.txt" in app.link_store.case_sources("remove")
    args = build_parser().parse_args(["remove", "--case", "remove", "kite.txt", "nope.txt", "--json"])
    assert args.func(args, app) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["source"] for e in out["removed"]] == ["kite.txt"] and out["not_found"] == ["nope.txt"]
    assert [s for s, _, _ in app.store.sources("remove")] == ["notes.txt"]
    assert {src for src, _ in app.store.census("remove")} == {"notes.txt"}
    assert "kite" not in _texts(app, "remove", "kite 07700 900418")["bm25"]
    assert set(app.link_store.case_sources("remove")) == {"notes.txt"}
    records = app.audit.records(case="remove", kind="ingest")
    [record] = [r for r in records if r.payload.get("action") == "remove_source"]
    assert record.payload["source"] == "kite.txt" and record.payload["chunks"] == 1
    fsck = build_parser().parse_args(["fsck", "--case", "remove", "--json"])
    assert fsck.func(fsck, app) == 0 and json.loads(capsys.readouterr().out)["clean"]


def test_fsck_cli_reports_then_repairs(app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import build_parser

    app.ingest([_write(tmp_path / "A", V1)], "cli", progress=False)
    app.link_store.drop_source("cli", "notes.txt")  # the links index lost a source
    args = build_parser().parse_args(["fsck", "--case", "cli"])
    assert args.func(args, app) == 1
    assert "links: notes.txt" in capsys.readouterr().out
    args = build_parser().parse_args(["fsck", "--case", "cli", "--repair", "--json"])
    assert args.func(args, app) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clean"] and any(line.startswith("links rebuilt") for line in out["repaired"])
    assert "notes.txt" in app.link_store.case_sources("cli")
    assert zipfile.is_zipfile(part_path(app.store.index_dir, "cli", "bm25"))


def test_fsck_finds_links_of_a_version_no_longer_served(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import build_parser

    root = _write(tmp_path / "A", "Call 07700 900418 about the kite.\n")
    app.ingest([root], "links-stale", progress=False)
    _write(root, "Call 07700 900419 about the kite, not the other number.\n")
    _crash_at(monkeypatch, "after_swap")  # swapped, but killed before the links index heard of it
    with pytest.raises(Crash):
        app.ingest([root], "links-stale", progress=False)
    monkeypatch.undo()
    args = build_parser().parse_args(["fsck", "--case", "links-stale", "--json"])
    assert args.func(args, app) == 1
    kinds = {p["kind"] for p in json.loads(capsys.readouterr().out)["problems"]}
    assert kinds == {"orphan_chunks", "links", "stale_bm25"}  # the crash also skipped the keyword index
    args = build_parser().parse_args(["fsck", "--case", "links-stale", "--repair", "--json"])
    assert args.func(args, app) == 0 and json.loads(capsys.readouterr().out)["clean"]
    served = set(app.store.get_chunks("links-stale", list(app.link_store.chunk_values("links-stale"))))
    assert served and served == set(app.link_store.chunk_values("links-stale"))


WRITER = """
import sys
from pathlib import Path
import numpy as np
from assistant.index.store import IndexStore
from assistant.ingest.batches import write_version
from assistant.types import Chunk
word = sys.argv[2]
chunks = [Chunk(chunk_id=f"c:{word}:{i}", case="c", source="s.txt", locator="l", text=f"{word} {i}", start=0, end=1,
                content_hash=f"{word}{i}", source_hash=word, kind="text") for i in range(20)]
write_version(IndexStore(Path(sys.argv[1])), "c", "s.txt", word, chunks, np.load(sys.argv[3]))
"""


def test_a_long_lived_reader_sees_a_swap_made_by_another_process(tmp_path: Path) -> None:
    """Chroma holds a collection's vectors in memory per process: without the reopen, the reader below kept
    returning the old version's ids and never found the new chunks."""
    index_dir = tmp_path / "idx"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    rng = np.random.default_rng(7)
    for word in ("old", "new"):
        np.save(tmp_path / f"{word}.npy", rng.standard_normal((20, 8)).astype(np.float32))
    subprocess.run([sys.executable, "-c", WRITER, str(index_dir), "old", str(tmp_path / "old.npy")], check=True,
                   env=env)
    reader = store_module.IndexStore(index_dir)
    old, new = np.load(tmp_path / "old.npy"), np.load(tmp_path / "new.npy")
    assert reader.dense_query("c", old[0], 3)[0][0] == "c:old:0"
    subprocess.run([sys.executable, "-c", WRITER, str(index_dir), "new", str(tmp_path / "new.npy")], check=True,
                   env=env)
    hits = reader.dense_query("c", new[0], 3)
    assert hits[0][0] == "c:new:0" and all(cid.startswith("c:new:") for cid, _ in hits)
    assert [c.text for c in reader.get_chunks("c", ["c:old:0", "c:new:0"]).values()] == ["new 0"]


def test_uploads_share_one_origin_so_a_new_upload_of_a_name_is_a_reported_update(
        app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # where Gradio puts each upload, one folder each
    first = _write(tmp_path / "gradio" / "3f2a", V1) / "notes.txt"
    second = _write(tmp_path / "gradio" / "9c41", V2) / "notes.txt"
    assert app.ingest([first], "uploads", progress=False).ingested == ["notes.txt"]
    assert app.store.source_state("uploads", "notes.txt").origin == "upload"
    report = app.ingest([second], "uploads", progress=False)
    assert report.replaced == [("notes.txt", _sha(V1), _sha(V2))]
    assert report.to_json()["replaced"] == [{"source": "notes.txt", "old_sha256": _sha(V1), "new_sha256": _sha(V2)}]
    folder = _write(tmp_path / "server" / "case", V3)  # the same name from a server folder is another origin
    assert "refused, not replaced" in app.ingest([folder], "uploads", progress=False).failed[0][1]


def test_an_index_from_before_source_identity_opens_with_its_pending_rows_moved(tmp_path: Path) -> None:
    import sqlite3

    from assistant.index.manifest import Manifest

    path = tmp_path / "manifest.sqlite"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE sources (case_id TEXT, source TEXT, sha256 TEXT, n_chunks INTEGER, status TEXT,"
                     " updated REAL, PRIMARY KEY (case_id, source));"
                     "CREATE TABLE cases (case_id TEXT PRIMARY KEY, generation INTEGER);"
                     "INSERT INTO cases VALUES ('old', 4);"
                     "INSERT INTO sources VALUES ('old', 'a.txt', 'aa', 2, 'complete', 0);"
                     "INSERT INTO sources VALUES ('old', 'b.txt', 'bb', 3, 'pending', 0);")
    db.commit()
    db.close()
    manifest = Manifest(path)
    assert [(r.source, r.sha256, r.origin) for r in manifest.served("old").values()] == [("a.txt", "aa", "")]
    assert [(r.source, r.sha256) for r in manifest.pending("old")] == [("b.txt", "bb")]
    assert manifest.generation("old") == 4 and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_full_disk_costs_the_file_in_flight_and_never_serves_a_torn_index(app: Any, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from assistant.index import client as chroma
    from assistant.index import durable

    root = _write(tmp_path / "A", V1)
    app.ingest([root], "full", progress=False)
    _write(root, V3)
    real_collection = chroma.ChromaHandle.collection

    class FullDisk:
        def __init__(self, col: Any) -> None:
            self._col = col

        def upsert(self, **_: Any) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._col, name)

    monkeypatch.setattr(chroma.ChromaHandle, "collection", lambda self, case: FullDisk(real_collection(self, case)))
    report = app.ingest([root], "full", progress=False)
    monkeypatch.undo()
    assert not report.ingested and "No space left on device" in report.failed[0][1]
    assert "blue van" in _texts(app, "full", "blue van grey lorry")["hybrid"]  # the old version is still served
    assert "nothing of it was kept" in report.failed[0][1]  # the partial version is taken back (ingest.batches)
    assert check(app.store, "full").clean

    def no_space(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    repair_report = check(app.store, "full")
    monkeypatch.setattr(durable.os, "write", no_space)  # and the keyword index cannot be saved either
    with pytest.raises(OSError):
        repair(app.store, repair_report)
    monkeypatch.undo()
    assert not list(part_path(app.store.index_dir, "full", "bm25").parent.glob("full.*.tmp"))  # nothing torn left
    assert {p.kind for p in check(app.store, "full").problems} == {"stale_bm25"}  # never served: rebuilt on use
    resumed = app.ingest([root], "full", progress=False)
    assert resumed.replaced == [("notes.txt", _sha(V1), _sha(V3))] and check(app.store, "full").clean


def test_fsck_deletes_partial_files_of_dead_writers_only(app: Any, tmp_path: Path) -> None:
    app.ingest([_write(tmp_path / "A", V1)], "temps", progress=False)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid now names no process: a writer that died
    folder = part_path(app.store.index_dir, "temps", "bm25").parent
    dead = folder / f"temps.bm25.npz.{child.pid}-1.tmp"
    live = folder / f"temps.chunks.json.{os.getpid()}-1.tmp"  # a writer still at work
    dead.write_bytes(b"PK torn")
    live.write_bytes(b"{ being written")
    report = check(app.store, "temps")
    assert [p.kind for p in report.problems] == ["temp_files"] and "1 partial file" in report.problems[0].detail
    repair(app.store, report)
    assert not dead.exists() and live.exists() and check(app.store, "temps").clean
    live.unlink()
