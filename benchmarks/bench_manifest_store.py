"""What the shared PostgreSQL manifest costs against the per-machine SQLite one (issue 19), as ratios.

    .venv/bin/python benchmarks/bench_manifest_store.py [--files 24] [--versions 200] [--rounds 2] [--no-ingest]

1. Whole ingest of a small case: `--files` public Enron e-mail bodies (dev folders 1-4 of enron_with_categories, read
   through the `eval_data` setting), one .txt file each, ingested by `App.ingest` (real PII tagging, embedding,
   embedded Chroma) into a fresh index with the SQLite manifest and with a PostgreSQL one (a throwaway cluster on
   loopback, `index.sql.cluster.PgCluster`); a fresh embedding cache each run; rounds alternate the order.
2. The manifest's own work per source version, alone: case lock taken and released, `begin`, `complete`, the served
   rows read back, and 20 dedup key rows written and matched, `--versions` times; and the case lock alone (taken and
   released: a new connection each time in PostgreSQL).
Writes benchmarks/results/manifest_store.json. Compare the ratios between machines, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.index.manifest import Manifest, SourceRow, SqlManifest
from assistant.index.sql.cluster import PgCluster, missing_binaries
from assistant.index.sql.postgres import PgManifest
from assistant.ingest.dedup.keys import MessageKeys
from assistant.ingest.dedup.table import KeyTable, Row
from assistant.offline import apply_offline_env

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEV_FOLDERS = ("1", "2", "3", "4")


def _bodies(eval_data: Path, wanted: int) -> list[str]:
    root = eval_data / "enron" / "enron_with_categories"
    out: list[str] = []
    for folder in DEV_FOLDERS:
        for path in sorted((root / folder).glob("*.txt")):
            body = path.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[-1].strip()
            if len(body) > 200:
                out.append(body[:3000])
            if len(out) >= wanted:
                return out
    return out


def _ingest_s(folder: Path, manifest_url: str) -> tuple[float, int]:
    from assistant.app import App

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp) / "idx", cache_dir=Path(tmp) / "cache")
        settings.llm.backend = "extractive"
        settings.index.manifest_url = manifest_url
        app = App(settings)
        app.embedder.embed_texts(["warm up"])
        app.pii.tag("warm up")
        t0 = time.perf_counter()
        report = app.ingest([folder], "bench", progress=False)
        took = time.perf_counter() - t0
        assert not report.failed, report.failed
        app.store.manifest.close()
        return took, report.chunks


def _lock_ms(manifest: SqlManifest, times: int) -> float:
    took = []
    for _ in range(times):
        t0 = time.perf_counter()
        with manifest.case_lock("bench"):
            pass
        took.append(time.perf_counter() - t0)
    return 1000 * statistics.median(took)


def _manifest_ops_ms(manifest: SqlManifest, versions: int) -> float:
    table = KeyTable(manifest.open_db())
    took = []
    for n in range(versions):
        row = SourceRow(f"s{n % 10}.txt", f"{n:064x}", "root", 20)
        keys = [MessageKeys(f"m{i}", f"{n}-{i}".encode().ljust(16, b"k"), (f"{i}".encode().ljust(16, b"t"),),
                            f"{n}-{i}".encode().ljust(32, b"c"), (f"s{n % 10}.txt#{i}",)) for i in range(20)]
        t0 = time.perf_counter()
        with manifest.case_lock("bench"):
            manifest.begin("bench", row)
            table.match("bench", row.source, keys[0])
            table.write("bench", row.source, row.sha256, [Row(k, None, (f"c{i}",)) for i, k in enumerate(keys)])
            manifest.complete("bench", row)
            table.drop_other_versions("bench", row.source, row.sha256)
            manifest.served("bench")
        took.append(time.perf_counter() - t0)
    table.close()
    return 1000 * statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ingest", action="store_true", help="only the manifest's own work (part 2)")
    args = parser.parse_args()
    apply_offline_env()
    why = missing_binaries()
    if why:
        sys.exit(why)
    settings = load_settings()
    out: dict[str, Any] = {"files": args.files, "versions": args.versions, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp, PgCluster() as pg:
        folder = Path(tmp) / "case"
        folder.mkdir()
        for n, body in enumerate(_bodies(settings.eval_data, args.files)):
            (folder / f"mail{n:03d}.txt").write_text(body + "\n", encoding="utf-8")
        times: dict[str, list[float]] = {"sqlite": [], "postgres": []}
        for r in range(0 if args.no_ingest else args.rounds):
            order = [("sqlite", ""), ("postgres", pg.database(f"ingest{r}"))]
            for name, url in order if r % 2 == 0 else order[::-1]:
                took, chunks = _ingest_s(folder, url)
                times[name].append(took)
                out["chunks"] = chunks
        if not args.no_ingest:
            for name, values in times.items():
                out[f"ingest_s_{name}"] = round(statistics.median(values), 3)
            out["ingest_ratio_postgres_over_sqlite"] = round(out["ingest_s_postgres"] / out["ingest_s_sqlite"], 3)
        sqlite, postgres = Manifest(Path(tmp) / "m" / "manifest.sqlite"), PgManifest(pg.database("ops"))
        sqlite_ms, pg_ms = _manifest_ops_ms(sqlite, args.versions), _manifest_ops_ms(postgres, args.versions)
        lock_sqlite, lock_pg = _lock_ms(sqlite, args.versions), _lock_ms(postgres, args.versions)
        out.update({"manifest_ms_per_version_sqlite": round(sqlite_ms, 3),
                    "manifest_ms_per_version_postgres": round(pg_ms, 3),
                    "manifest_ratio_postgres_over_sqlite": round(pg_ms / sqlite_ms, 3),
                    "lock_ms_sqlite": round(lock_sqlite, 3), "lock_ms_postgres": round(lock_pg, 3)})
        out["load_avg_1m"] = round(os.getloadavg()[0], 1)
    RESULTS_DIR.mkdir(exist_ok=True)
    name = "manifest_store_ops.json" if args.no_ingest else "manifest_store.json"
    (RESULTS_DIR / name).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
