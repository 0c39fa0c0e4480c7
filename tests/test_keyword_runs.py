"""The keyword terms counted per commit batch at ingest (keywords/counted.py, ledger.py) and merged at finalize
(keywords/merged.py) give the same keyword file as reading the case back from Chroma (keywords/stream.py), on a real
embedded Chroma: after a SIGKILL between two batches (the pending version is never merged, the resume counts each
chunk once), after a source is replaced or removed, and for chunks that have no record (an index from before the
ledger, a record lost), which are read from Chroma by id."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.faults import KILL_AT_ENV, KILL_ENV
from assistant.index.keywords import merged
from assistant.index.keywords.ledger import TermLedger, ledger_path
from assistant.index.keywords.mapped import open_mapped
from assistant.index.keywords.scoring import Bm25Index
from assistant.index.keywords.stream import build_keyword_parts
from assistant.index.persisted import part_path, save_bm25_parts
from assistant.index.store import IndexStore
from assistant.ingest.batches import BatchWriter, write_version
from assistant.types import Chunk, Entity

CASE = "runs"
WORDS = ("parcel garage van quay dawn money north road keys broker ledger trawler berth pier harbour Ann's "
         "Zoë café 2023-03-14T19:02 14/03/2023 +44 7700 900418").split()
ROOT = Path(__file__).resolve().parents[1]


def make_chunks(source: str, sha: str, n: int, shift: int = 0) -> list[Chunk]:
    """Message windows and prose with PII spans (their normalised forms are indexed), dates, non-ASCII words and
    some empty texts (the EMPTY term)."""
    out = []
    for i in range(n):
        words = [WORDS[(i * 7 + j * 3 + shift) % len(WORDS)] for j in range(i % 9)]
        text = " ".join(words)
        at = text.find("+44")
        entities = (Entity("PHONE_NUMBER", at, at + 16, text[at : at + 16], 0.9, "+447700900418"),) if at >= 0 else ()
        meta = {"senders": "Ann, bob", "ts_start": f"2023-03-{1 + i % 28:02d}", "ts_end": f"2023-03-{1 + i % 28:02d}"}
        out.append(Chunk(chunk_id=f"{CASE}:{source}:{sha}:{i:04d}", case=CASE, source=source, locator=f"line {i}",
                         text=text, start=0, end=len(text), content_hash=f"{sha}-{i}", source_hash=sha,
                         kind="messages" if i % 3 else "text", entities=entities, meta=meta if i % 3 else {}))
    return out


def vectors(n: int) -> np.ndarray:
    return np.random.default_rng(n).random((n, 8)).astype(np.float32)


def finalized_and_read_back(store: IndexStore, tmp: Path) -> tuple[bytes, bytes]:
    """The case's keyword file as finalize writes it, and as the streamed build from Chroma's pages writes it."""
    for path in (store.index_dir / "bm25").glob(f"{CASE}.bm25.npz"):
        path.unlink()
    store._keywords.pop(CASE)
    store.finalize(CASE)
    built, pieces, entries = build_keyword_parts((c.chunk_id, c.text, c.meta) for c in store.iter_chunks(CASE))
    save_bm25_parts(tmp, CASE, store.stamp(CASE), built, pieces, entries)
    return part_path(store.index_dir, CASE, "bm25").read_bytes(), part_path(tmp, CASE, "bm25").read_bytes()


def no_case_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any whole-case read during finalize; return the list of ids read from Chroma by id."""
    asked: list[str] = []
    real = merged.stored_rows

    def by_id(col: object, ids: list[str], page: int) -> object:
        asked.extend(ids)
        return real(col, ids, page)

    def whole_case(*_: object, **__: object) -> None:
        raise AssertionError("finalize read the whole case from Chroma")

    monkeypatch.setattr(merged, "stored_rows", by_id)
    monkeypatch.setattr(merged, "build_keyword_parts", whole_case)
    return asked


def test_finalize_merges_the_counted_terms_into_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = IndexStore(tmp_path / "idx")
    for source, n in (("a.csv", 37), ("b.txt", 26)):
        write_version(store, CASE, source, "s1", make_chunks(source, "s1", n), vectors(n), batch=5)
    asked = no_case_read(monkeypatch)
    ours, theirs = finalized_and_read_back(store, tmp_path / "ref")
    assert ours == theirs and asked == []
    hits = store.keyword_index(CASE).search("trawler +447700900418 March", 5)
    assert hits and all(cid.startswith(f"{CASE}:") for cid, _ in hits)


def test_a_batch_killed_before_commit_is_never_merged_and_the_resume_counts_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_dir = tmp_path / "idx"
    script = ("import sys; from pathlib import Path; from tests.test_keyword_runs import *\n"
              "store = IndexStore(Path(sys.argv[1]))\n"
              "write_version(store, CASE, 'a.csv', 's1', make_chunks('a.csv', 's1', 9), vectors(9), batch=4)\n"
              "write_version(store, CASE, 'b.csv', 's1', make_chunks('b.csv', 's1', 30), vectors(30), batch=4)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), KILL_ENV: "chroma_add", KILL_AT_ENV: str(3 + 3)}  # a.csv: 3 hits
    child = subprocess.run([sys.executable, "-c", script, str(index_dir)], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    store = IndexStore(index_dir)
    [pending] = store.manifest.pending(CASE)
    ledger = TermLedger(index_dir, CASE)
    assert len(ledger.members({"b.csv": "s1"})["b.csv"]) == 3 * 4  # three batches committed, recorded
    assert store.finalize(CASE) == 9  # the pending version's records are not merged
    assert {cid.split(":")[1] for cid in store.keyword_index(CASE).ids} == {"a.csv"}

    writer = BatchWriter(store, CASE, pending, 4)  # resume the same bytes in this process, then swap
    writer.write(make_chunks("b.csv", "s1", 30), lambda part: list(part), lambda texts: vectors(len(texts)), {})
    writer.swap()
    assert writer.resumed == 12
    assert len(ledger.members({"b.csv": "s1"})["b.csv"]) == 30
    asked = no_case_read(monkeypatch)
    ours, theirs = finalized_and_read_back(store, tmp_path / "ref")
    assert ours == theirs and asked == []


def test_a_replaced_or_removed_source_takes_its_records_with_it(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = IndexStore(tmp_path / "idx")
    write_version(store, CASE, "a.csv", "s1", make_chunks("a.csv", "s1", 20), vectors(20), batch=6)
    write_version(store, CASE, "b.txt", "s1", make_chunks("b.txt", "s1", 12), vectors(12), batch=6)
    write_version(store, CASE, "a.csv", "s2", make_chunks("a.csv", "s2", 15, shift=5), vectors(15), batch=6)
    ledger = TermLedger(store.index_dir, CASE)
    assert ledger.members({"a.csv": "s1"})["a.csv"] == {}  # the old version's records went with the swap
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    asked = no_case_read(monkeypatch)
    ours, theirs = finalized_and_read_back(store, tmp_path / "ref")
    assert ours == theirs and asked == []
    assert store.finalize(CASE) == 27
    store.remove_source(CASE, "a.csv")
    assert ledger.members({"a.csv": "s2"})["a.csv"] == {}
    ours, theirs = finalized_and_read_back(store, tmp_path / "ref2")
    assert ours == theirs and store.finalize(CASE) == 12
    assert store.delete_case(CASE) and not ledger_path(store.index_dir, CASE).exists()


def test_chunks_without_a_record_are_read_from_chroma_by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = IndexStore(tmp_path / "idx")
    for source, n in (("a.csv", 23), ("b.txt", 11)):
        write_version(store, CASE, source, "s1", make_chunks(source, "s1", n), vectors(n), batch=5)
    ledger = TermLedger(store.index_dir, CASE)
    lost = sorted(ledger.members({"a.csv": "s1"})["a.csv"])[3:8]
    ledger.forget(lost)  # records lost (a crash between a batch's Chroma write and its record)
    ledger.drop("b.txt")  # a version written by a writer that keeps none
    asked = no_case_read(monkeypatch)
    ours, _ = finalized_and_read_back(store, tmp_path / "ref")  # rows in another order: scores compared below
    assert sorted(asked) == sorted(lost + [c.chunk_id for c in make_chunks("b.txt", "s1", 11)])
    served = {c.chunk_id for c in store.iter_chunks(CASE)}
    assert set(store.keyword_index(CASE).ids) == served and len(served) == 34
    monkeypatch.undo()
    ledger_path(store.index_dir, CASE).unlink()  # an index from before the ledger: the whole case read, as before
    ours_old, theirs_old = finalized_and_read_back(store, tmp_path / "ref_old")
    assert ours_old == theirs_old
    for query in ("trawler pier", "+447700900418", "14 march 2023", "zoë café", "ann"):
        assert dict(store.keyword_index(CASE).search(query, 40)) == pytest.approx(_search(ours, tmp_path, query))


def _search(blob: bytes, tmp: Path, query: str) -> dict[str, float]:
    """Scores from a keyword file's bytes."""
    path = tmp / "copy.npz"
    path.write_bytes(blob)
    arrays = open_mapped(path)
    header = json.loads(str(arrays.pop("header")))
    return dict(Bm25Index.from_arrays(header, arrays).search(query, 40))

