"""A full disk while indexing (issue 14), simulated with RLIMIT_FSIZE in a real child process (a write that would
grow a file past the limit fails with EFBIG, as on a full disk; Python ignores SIGXFSZ). The Chroma add of a new
file and the save of the keyword index (BM25) must fail with the file and the reason, and leave the case
consistent: fsck clean after the failed add; after the failed save only the keyword index is reported (never
served stale: a question would rebuild it), and `fsck --repair` rebuilds it once there is room.
The audit append under a full disk is in tests/test_audit_faults.py."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # two ingests in child processes load the models

ROOT = Path(__file__).resolve().parent.parent
CASE = "full"
# the limit is set once Chroma is open (opening it writes to its own database), right before the save
FINALIZE = ("import resource, sys\nfrom pathlib import Path\nfrom assistant.index.store import IndexStore\n"
            "store = IndexStore(Path(sys.argv[1]))\nchunks = list(store.iter_chunks(sys.argv[2]))\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))\n"
            "store.finalize(sys.argv[2])\n")


def _run(index_dir: Path, args: list[str], fsize: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_INDEX_DIR": str(index_dir),
           "ASSISTANT_LLM__BACKEND": "extractive", "ASSISTANT_EMBEDDING__CACHE": "false"}  # Chroma is the writer

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT,
                          preexec_fn=limit if fsize else None)


def _cli(index_dir: Path, *args: str, fsize: int = 0) -> subprocess.CompletedProcess[str]:
    return _run(index_dir, ["-m", "assistant.cli.main", *args], fsize)


def _fsck(index_dir: Path, *extra: str) -> dict[str, Any]:
    done = _cli(index_dir, "fsck", "--case", CASE, "--json", *extra)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_full_disk_names_the_file_and_leaves_the_case_consistent(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "case", tmp_path / "idx"
    folder.mkdir()
    (folder / "a_note.txt").write_text("The harbour master logged the grey trawler at six.\n", encoding="utf-8")
    first = _cli(index_dir, "ingest", str(folder), "--case", CASE, "--no-progress", "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    rows = ["timestamp,sender,recipient,body,translation"]
    rows += [f"2024-02-01T{n % 24:02d}:15:00,Mila,Tomas,\"Shipment {n} left pier {n % 9} at dawn; the crates were "
             f"counted twice and sealed with tag {n * 7919 % 100000:05d} before the ferry left\"," for n in range(400)]
    (folder / "export.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    # 1. the Chroma add: no file under the index may grow
    biggest = max(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    full = _cli(index_dir, "ingest", str(folder), "--case", CASE, "--no-progress", "--json", fsize=biggest)
    report = json.loads(full.stdout)
    [failed] = report["failed"]
    assert failed["source"] == "export.csv" and report["unchanged"] == ["a_note.txt"]
    assert failed["reason"].startswith("could not index its chunks (")
    assert f"is the disk under {index_dir} full?); nothing of it was kept" in failed["reason"]
    found = _fsck(index_dir)
    assert found["clean"] and found["sources"] == 1 and found["chunks"] == 1, found

    # 2. the keyword index save (finalize writes only the keyword index; texts stay in Chroma): half its size fits
    bm25_dir = index_dir / "bm25"
    sizes = {p.suffix: p.stat().st_size for p in bm25_dir.glob(f"{CASE}.bm25.*")}  # beside the term ledger
    assert list(sizes) == [".npz"]
    for path in bm25_dir.glob(f"{CASE}.*"):
        path.unlink()
    saved = _run(index_dir, ["-c", FINALIZE, str(index_dir), CASE, str(sizes[".npz"] // 2)])
    assert saved.returncode == 1
    assert f"could not write {bm25_dir / CASE}.bm25.npz (File too large)" in saved.stderr, saved.stderr[-2000:]
    assert not list(bm25_dir.glob("*.tmp"))  # the partial file went with the error
    found = _fsck(index_dir)
    assert [p["kind"] for p in found["problems"]] == ["stale_bm25"], found
    repaired = _fsck(index_dir, "--repair")
    assert repaired["clean"] and _fsck(index_dir)["clean"]
