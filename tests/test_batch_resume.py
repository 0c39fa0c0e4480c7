"""A big file is committed in batches and resumes after a crash (issue 14, `ingest.batches`).

A real `assistant ingest` child process is SIGKILLed between two batches of one message export (kill point
"chroma_add" after the export's 3rd batch, `ingest.commit_batch` = 4 chunks). Then: nothing of the export is served
(count, chunk stream, a question whose answer is only in it), `fsck` names the partially committed version, and the
next ingest of the same file resumes after the 12 committed chunks instead of redoing them, ending with exactly the
chunks, texts and PII spans of an uninterrupted ingest, and a clean fsck."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.killharness import fsck, ingest_args, run_cli

pytestmark = pytest.mark.slow  # five child processes, three of them load the models

CASE = "batches"
BATCH = 4
KILLED_AFTER = 3  # batches


def _export(folder: Path) -> None:
    rows = ["timestamp,sender,recipient,body,translation"]
    for n in range(96):
        body = (f"Shipment {n} left pier {n % 9} at dawn; call Jan Novak on +44 7700 900{n % 1000:03d}"
                if n % 5 else f"Ledger line {n}: paid {n * 37} euros to the broker")
        rows.append(f"2024-02-{1 + n // 24:02d}T{n % 24:02d}:15:00,Mila,Tomas,\"{body}\",")
    rows.append("2024-02-05T09:00:00,Mila,Tomas,The trawler Silver Gannet is moored at berth 44,")
    (folder / "export.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _ingest(index_dir: Path, folder: Path, kill_at: int = 0) -> subprocess.CompletedProcess[str]:
    return run_cli(index_dir, *ingest_args(folder, CASE), kill="chroma_add" if kill_at else "", at=kill_at,
                   settings={"ASSISTANT_INGEST__COMMIT_BATCH": str(BATCH)})


def _chunks(index_dir: Path) -> dict[str, tuple[str, str]]:
    """chunk id -> (text, stored PII spans) of every chunk in Chroma, served or not."""
    from assistant.config import load_settings
    from assistant.index.store import IndexStore

    store = IndexStore(index_dir, chroma=load_settings(index_dir=index_dir).index)
    try:
        return {cid: (c.text, str(c.meta.get("entities_json"))) for cid, c in store._read_chunks(CASE, every=True)}
    finally:
        store.manifest.close()


def test_a_file_killed_between_batches_is_never_served_and_resumes_exactly(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    _export(folder)
    (folder / "a_note.txt").write_text("The harbour master logged the grey trawler at six.\n", encoding="utf-8")
    reference_dir, index_dir = tmp_path / "reference", tmp_path / "killed"
    reference = _ingest(reference_dir, folder)
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = _chunks(reference_dir)
    total = json.loads(reference.stdout)["chunks"] - 1  # a_note.txt is one chunk
    assert total > KILLED_AFTER * BATCH + BATCH  # the kill lands mid-file, with batches still to write

    killed = _ingest(index_dir, folder, kill_at=1 + KILLED_AFTER)  # a_note.txt's one batch is the first hit
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    from assistant.app import App
    from assistant.config import load_settings

    app: Any = App(load_settings(index_dir=index_dir))
    [pending] = app.store.manifest.pending(CASE)
    assert pending.source == "export.csv" and pending.n_chunks == total
    stored = app.store.census(CASE)[("export.csv", pending.sha256)]
    assert len(stored) == KILLED_AFTER * BATCH  # whole batches only
    assert "export.csv" not in app.store.manifest.served(CASE)
    assert app.store.count(CASE) == 1 and {c.meta["source"] for c in app.store.iter_chunks(CASE)} == {"a_note.txt"}
    hits = app.retrieve(CASE, "Where is the trawler Silver Gannet moored?", top_k=5)
    assert hits and {p.source for p in hits} == {"a_note.txt"}  # pending batches are never served
    app.store.manifest.close()

    code, found = fsck(index_dir, CASE)
    assert code == 1, found
    [problem] = found["problems"]
    assert problem["kind"] == "pending" and problem["source"] == "export.csv"
    assert f"partially committed: {KILLED_AFTER * BATCH} of {total} chunks" in problem["detail"]
    assert "resumes" in problem["repair"]

    resumed = _ingest(index_dir, folder)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = json.loads(resumed.stdout)
    assert out["ingested"] == ["export.csv"] and out["unchanged"] == ["a_note.txt"]
    assert {"source": "export.csv", "note": f"resumed: {KILLED_AFTER * BATCH} of {total} chunks were committed by "
            "an interrupted ingest of the same bytes and kept"} in out["notes"]
    assert _chunks(index_dir) == expected  # same ids, texts and PII spans: no duplicate, none missing
    code, report = fsck(index_dir, CASE)
    assert code == 0, report
    assert report["clean"] and report["chunks"] == total + 1 == len(expected)
