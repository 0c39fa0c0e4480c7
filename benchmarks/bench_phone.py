"""Seized-phone loaders: peak memory and throughput on a large generated Cellebrite PA XML report, and messages/s
per format. Reported, never asserted.

    .venv/bin/python benchmarks/bench_phone.py [--mb 100] [--formats-n 20000]      # --mb 1024 for a 1 GB report

Memory: each measurement runs in a fresh child process and reads its own peak RSS (getrusage); the curve over
report sizes (1/4, 1/2, 1 of --mb) shows whether memory grows with the report. Three readers:
- `stream`: the streaming reader alone (records counted, then dropped): what parsing costs;
- `document`: `load_file_with_notes`, which keeps every record as a Message of one Document (what ingest holds);
- `dom`: `ElementTree.parse` of the whole report, the non-streaming baseline (smallest size only).
Results go to benchmarks/results/phone_<mb>mb.json and are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pa_report as pa  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
WORDS = ("parcel station car money bag meet later tonight phone call library steps retail park glovebox blue "
         "red notebook canal bridge north gate friday saturday cash drop address flat number bus").split()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 18)))


def _people(n: int) -> list[tuple[str, str, bool]]:
    return [(f"+4477009{i:05d}", f"Person {i}", False) for i in range(n)]


def write_big_report(path: Path, target_mb: float, seed: int = 7) -> int:
    """A PA XML report of about target_mb MB: chats of 200 messages, plus calls, contacts and SMS. Returns the
    number of records written (messages + calls + contacts + SMS)."""
    rng = random.Random(seed)
    people = _people(500)
    owner = ("+447700900001", "", True)
    target = int(target_mb * 1024 * 1024)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        def groups() -> Any:
            nonlocal written
            n = 0
            while path.stat().st_size < target:
                n += 1
                members = rng.sample(people, 3)
                msgs = [pa.instant_message(f"m{n}-{k}", f"K{n}-{k}", f"2024-03-{1 + k % 28:02d}T10:{k % 60:02d}:00"
                                           ".000+00:00", rng.choice([*members, owner]), _text(rng),
                                           deleted=rng.random() < 0.02)
                        for k in range(200)]
                written += 200
                yield ("Chat", pa.chat(f"c{n}", f"chat-{n}@g.us", [*members, owner], msgs))
                who = rng.choice(people)
                yield ("Call", [pa.call(f"k{n}", "2024-03-15T10:12:00.000+00:00", "Incoming", who[0], who[1],
                                        f"00:0{rng.randint(0, 9)}:{rng.randint(10, 59)}")])
                yield ("Contact", [pa.contact(f"p{n}", who[1], who[0])])
                yield ("SMS", [pa.sms(f"s{n}", "2024-03-14T09:00:00.000+00:00", who[0], _text(rng))])
                written += 3
                out.flush()
        pa.write_report(out, groups())
    return written


def _reset_peak() -> None:
    """A forked child inherits its parent's high-water mark: reset it (Linux >= 4.0, /proc/self/clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def child(mode: str, path: Path) -> dict[str, Any]:
    """Runs inside the child process: one reader over one file."""
    start = time.perf_counter()
    if mode == "baseline":
        import assistant.loaders
        import assistant.loaders.phone.ufdr  # noqa: F401

        count = 0
    elif mode == "stream":
        from assistant.loaders.phone.ufdr import ReportReader, open_report

        reader = ReportReader(path.name)
        with open_report(path) as stream:
            count = sum(1 for _ in reader.records(stream))
    elif mode == "document":
        from assistant.loaders import load_file_with_notes

        doc, _ = load_file_with_notes(path, path.parent)
        count = len(doc.messages)
    else:
        import xml.etree.ElementTree as ET

        tree = ET.parse(path)
        count = sum(1 for _ in tree.iter())
    return {"records": count, "seconds": time.perf_counter() - start, "peak_rss_mb": _peak_rss_mb()}


def _in_child(mode: str, path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def memory_curve(folder: Path, total_mb: float, wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    base = _in_child("baseline", folder)["peak_rss_mb"]
    rows = []
    for share in (0.25, 0.5, 1.0):
        path = folder / f"report_{share}.xml"
        records = write_big_report(path, total_mb * share)
        size_mb = path.stat().st_size / 2**20
        row: dict[str, Any] = {"report_mb": round(size_mb, 1), "records_written": records,
                               "import_baseline_rss_mb": round(base, 1)}
        modes = [m for m in wanted if m != "dom" or share == 0.25]
        for mode in modes:
            got = _in_child(mode, path)
            row[mode] = {"peak_rss_mb": round(got["peak_rss_mb"], 1),
                         "rss_over_baseline_mb": round(got["peak_rss_mb"] - base, 1),
                         "seconds": round(got["seconds"], 2), "records": got["records"],
                         "records_per_s": round(got["records"] / got["seconds"]) if mode != "dom" else None,
                         "mb_per_s": round(size_mb / got["seconds"], 1)}
        print(json.dumps(row), flush=True)
        rows.append(row)
        path.unlink()
    return rows


# ---------------------------------------------------------------- messages/s per format


def _whatsapp(folder: Path, n: int, rng: random.Random) -> Path:
    path = folder / "WhatsApp Chat with Bench.txt"
    lines = [f"{1 + i % 28:02d}/03/2024, {i % 24:02d}:{i % 60:02d} - Person {i % 7}: {_text(rng)}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _telegram(folder: Path, n: int, rng: random.Random) -> Path:
    path = folder / "result.json"
    msgs = [{"id": i, "type": "message", "date": "2024-03-15T10:00:00", "date_unixtime": str(1710496800 + i),
             "from": f"Person {i % 7}", "from_id": f"user{i % 7}", "text": _text(rng)} for i in range(n)]
    path.write_text(json.dumps({"name": "Bench", "type": "personal_chat", "id": 1, "messages": msgs}),
                    encoding="utf-8")
    return path


def _ios_sms(folder: Path, n: int, rng: random.Random) -> Path:
    path = folder / "sms.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
                       "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, attributedBody BLOB,"
                       " handle_id INTEGER, service TEXT, date INTEGER, is_from_me INTEGER);"
                       "INSERT INTO handle VALUES (1, '+447700900418');")
    conn.executemany("INSERT INTO message VALUES (?, ?, ?, NULL, 1, 'SMS', ?, ?)",
                     [(i, f"G{i}", _text(rng), 732000000 + i, i % 2) for i in range(1, n + 1)])
    conn.commit()
    conn.close()
    return path


def _android_sms(folder: Path, n: int, rng: random.Random) -> Path:
    path = folder / "mmssms.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, "
                 "type INTEGER, body TEXT)")
    conn.executemany("INSERT INTO sms VALUES (?, ?, '+447700900418', ?, ?, ?)",
                     [(i, i % 20, 1710496800000 + i, 1 + i % 2, _text(rng)) for i in range(1, n + 1)])
    conn.commit()
    conn.close()
    return path


def _pa_xml(folder: Path, n: int, rng: random.Random) -> Path:
    path = folder / "report.xml"
    owner = ("+447700900001", "", True)
    people = _people(3)
    msgs = [pa.instant_message(f"m{i}", f"K{i}", "2024-03-15T10:00:00.000+00:00", rng.choice([*people, owner]),
                               _text(rng)) for i in range(n)]
    buffer = io.StringIO()
    pa.write_report(buffer, [("Chat", pa.chat("c1", "chat@g.us", [*people, owner], msgs))])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def formats(folder: Path, n: int) -> dict[str, dict[str, float]]:
    from assistant.loaders import load_file_with_notes

    rng = random.Random(11)
    out = {}
    for name, make in (("whatsapp_txt", _whatsapp), ("telegram_json", _telegram), ("ios_sms_db", _ios_sms),
                       ("android_mmssms_db", _android_sms), ("pa_xml", _pa_xml)):
        path = make(folder, n, rng)
        start = time.perf_counter()
        doc, _ = load_file_with_notes(path, folder)
        seconds = time.perf_counter() - start
        out[name] = {"messages": len(doc.messages), "seconds": round(seconds, 3),
                     "messages_per_s": round(len(doc.messages) / seconds)}
        print(name, json.dumps(out[name]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the largest generated report (MB)")
    parser.add_argument("--formats-n", type=int, default=20000, help="messages per format for messages/s")
    parser.add_argument("--modes", default="stream,document,dom", help="readers to measure (comma-separated)")
    parser.add_argument("--skip-formats", action="store_true", help="only the memory curve")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _reset_peak()
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-phone-") as tmp:
        folder = Path(tmp)
        result = {"formats": {} if args.skip_formats else formats(folder, args.formats_n),
                  "memory_curve": memory_curve(folder, args.mb, tuple(args.modes.split(",")))}
    out = RESULTS_DIR / f"phone_{args.mb:g}mb.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
