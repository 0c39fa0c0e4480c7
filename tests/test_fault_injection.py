"""Fault injection (issue 14): a real `assistant ingest` in a child process is SIGKILLed at each named kill point of
the store (index.durable.KILL_POINTS: after a Chroma add batch of the changed file, between its chunks written and
the swap, after the swap before the old version is deleted, halfway through writing the BM25 file); then `assistant
fsck` must report the damage, `fsck --repair` must leave the case clean, and a resumed ingest must end exactly where
an uninterrupted one does. Two concurrent ingests of one case must serialise on the case lock. Every step is a real
process on a real index in tmp_path."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.index.durable import KILL_POINTS
from tests.killharness import ROOT, child_env, fsck, ingest_args, run_cli, served

pytestmark = pytest.mark.slow  # about 12 child processes, each loading the models (about 2 CPU-minutes)

CASE = "faults"
TEXTS = {
    "a.txt": "The harbour master logged the grey trawler at six in the morning.\n",
    "b.txt": "Witness one saw a red hatchback parked outside the chapel on Friday.\n",
    "c.txt": "The bank statement lists three transfers to an account ending 4411.\n",
}
FRESH_AUDIT = shutil.ignore_patterns("audit.sqlite*")  # a copy's audit log would need the original's key folder
CHANGED = {"b.txt": "Witness one later said the hatchback was blue, not red, and left before noon.\n",
           "d.txt": "A fourth note: the ferry timetable was found in the glovebox.\n"}


def _ingest(index_dir: Path, folder: Path, kill: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(index_dir, *ingest_args(folder, CASE, "--wait", "600"), kill=kill)


def _fsck(index_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, report = fsck(index_dir, CASE, *extra)
    assert code in (0, 1), report
    return code, report


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A base index of the first version, and the reference: the same index updated without interruption."""
    tmp = tmp_path_factory.mktemp("faults")
    folder = tmp / "case"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    base = tmp / "base"
    first = _ingest(base, folder)
    assert first.returncode == 0, first.stderr
    for name, text in CHANGED.items():
        (folder / name).write_text(text, encoding="utf-8")
    reference = tmp / "reference"
    shutil.copytree(base, reference, ignore=FRESH_AUDIT)
    update = _ingest(reference, folder)
    assert update.returncode == 0, update.stderr
    assert json.loads(update.stdout)["replaced"][0]["source"] == "b.txt"
    return {"tmp": tmp, "folder": folder, "base": base, "reference": reference}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_ingest_is_reported_repaired_and_resumed(corpus: dict[str, Path], point: str) -> None:
    index_dir = corpus["tmp"] / f"killed-{point}"
    shutil.copytree(corpus["base"], index_dir, ignore=FRESH_AUDIT)
    killed = _ingest(index_dir, corpus["folder"], kill=point)
    assert killed.returncode == -signal.SIGKILL, (point, killed.returncode, killed.stderr[-2000:])

    code, found = _fsck(index_dir)
    assert code == 1 and found["problems"], (point, found)
    code, repaired = _fsck(index_dir, "--repair")
    assert code == 0 and repaired["clean"] and repaired["repaired"], (point, repaired)
    assert not list((index_dir / "bm25").glob("*.tmp"))  # the half-written file of the killed writer is gone

    resumed = _ingest(index_dir, corpus["folder"])
    assert resumed.returncode == 0, resumed.stderr
    code, final = _fsck(index_dir)
    reference = served(corpus["reference"], CASE)
    assert code == 0 and final["clean"], (point, final)
    assert served(index_dir, CASE) == reference  # every source at the right version with its full chunk count
    assert final["chunks"] == sum(n for _, n in reference.values())


def test_two_concurrent_ingests_of_one_case_serialise(corpus: dict[str, Path]) -> None:
    index_dir = corpus["tmp"] / "concurrent"
    args = [sys.executable, "-m", "assistant.cli.main", *ingest_args(corpus["folder"], CASE, "--wait", "600")]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=child_env(index_dir), cwd=ROOT) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    every = sorted(TEXTS.keys() | CHANGED.keys())
    # one writer at a time: each file was indexed by exactly one of the two, and found unchanged by the other
    assert sorted(reports[0]["ingested"] + reports[1]["ingested"]) == every
    assert sorted(reports[0]["unchanged"] + reports[1]["unchanged"]) == every
    code, final = _fsck(index_dir)
    assert code == 0 and final["clean"] and final["sources"] == len(every)
    assert served(index_dir, CASE) == served(corpus["reference"], CASE)
