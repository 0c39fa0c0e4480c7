"""The manifest, dedup key tables and case lock in PostgreSQL (`index.manifest_url`, issue 19): a real throwaway
cluster on loopback (`index.sql.cluster.PgCluster`, Debian's binaries), real Chroma, Presidio and the packaged
embedder. Ingest and ask give the same on both stores; fsck is clean; the advisory lock serialises writers across
processes and dies with its holder; a killed ingest serves nothing of its pending version; dedup merges across files."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import AssistantError
from assistant.index.durable import KILL_AT_ENV, KILL_ENV, CaseLocked
from assistant.index.fsck import check
from assistant.index.sql.cluster import PgCluster, missing_binaries
from assistant.index.sql.postgres import check_url

ROOT = Path(__file__).resolve().parent.parent
NO_PG = missing_binaries()
needs_pg = pytest.mark.skipif(bool(NO_PG), reason=NO_PG or "PostgreSQL present")
DOCS = {"harbour.txt": "The harbour master logged the grey trawler Silver Gannet at berth 44 at six in the morning.",
        "ledger.txt": "Ledger: Mila paid 3,700 euros to the broker Tomas Brandt on 5 February 2024.",
        "call.txt": "Jan Novak called +44 7700 900418 to say the van would be parked behind the canal bridge."}
QUESTIONS = ["Where was the trawler Silver Gannet?", "How much did Mila pay the broker?", "Who called about the van?"]


def test_a_manifest_url_off_the_machine_needs_allow_remote_and_verified_tls() -> None:
    assert check_url("postgresql://a@127.0.0.1:5432/x", False)["host"] == "127.0.0.1"
    assert check_url("postgresql:///x?host=/run/postgresql", False)["dbname"] == "x"  # a unix socket: this machine
    with pytest.raises(AssistantError, match="not on this machine") as refused:
        check_url("postgresql://a:s3cret@db.example:5432/x", False)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(AssistantError, match="sslmode=verify-full"):
        check_url("postgresql://a@10.0.0.5/x?sslmode=require", True)
    assert check_url("postgresql://a@db.example/x?sslmode=verify-full", True)["host"] == "db.example"


@pytest.fixture(scope="module")
def cluster() -> Any:
    if NO_PG:
        pytest.skip(NO_PG)
    with PgCluster() as pg:
        yield pg


@pytest.fixture
def pg_url(cluster: PgCluster, request: pytest.FixtureRequest) -> str:
    return cluster.database(f"t_{request.node.name[5:40].lower()}".replace("-", "_").replace("[", "_").strip("]"))


def _app(index_dir: Path, manifest_url: str = "") -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    settings = load_settings(index_dir=index_dir)
    settings.llm.backend = "extractive"
    settings.index.manifest_url = manifest_url
    return App(settings)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


@needs_pg
def test_ingest_and_ask_give_the_same_on_both_stores(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    folder = _folder(tmp_path)
    results = []
    for name, url in (("sqlite", ""), ("postgres", pg_url)):
        app = _app(tmp_path / name, url)
        report = app.ingest([folder], "twin", progress=False)
        assert sorted(report.ingested) == sorted(DOCS), report.failed
        answers = [app.ask("twin", q) for q in QUESTIONS]
        assert check(app.store, "twin").clean
        results.append((app.store.sources("twin"), app.store.count("twin"), app.store.stamp("twin")[2:],
                        [(a.status, a.answer, [c.chunk_id for c in a.citations]) for a in answers]))
        assert app.ingest([folder], "twin", progress=False).unchanged == sorted(DOCS)  # the manifest remembers
    assert results[0] == results[1]
    assert "Silver Gannet" in results[1][3][0][1]
    assert not (tmp_path / "postgres" / "manifest.sqlite").exists()  # the rows really are in PostgreSQL
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT source, n_chunks FROM sources WHERE case_id='twin' ORDER BY source").fetchall()
    assert [r[0] for r in rows] == sorted(DOCS) and all(r[1] >= 1 for r in rows)


@needs_pg
def test_a_manifest_whose_connection_the_server_dropped_reconnects(pg_url: str) -> None:
    import psycopg

    from assistant.index.manifest import SourceRow
    from assistant.index.sql.postgres import PgManifest

    manifest = PgManifest(pg_url)
    manifest.begin("c", SourceRow("a.txt", "ab" * 32, "root", 2))
    with psycopg.connect(pg_url, autocommit=True) as admin:  # what a server restart does to every session
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND application_name LIKE 'assistant manifest%'")
    assert [r.source for r in manifest.pending("c")] == ["a.txt"]  # the read is repeated on a new connection
    manifest.complete("c", SourceRow("a.txt", "ab" * 32, "root", 2))
    assert manifest.generation("c") == 1 and manifest.pending("c") == []
    manifest.close()


@needs_pg
def test_two_locks_in_one_process_exclude_each_other_and_reuse_connections(pg_url: str) -> None:
    from assistant.index.sql.postgres import PgManifest

    manifest = PgManifest(pg_url)
    first = manifest.case_lock("c")
    first.acquire()
    with pytest.raises(CaseLocked, match=f"pid {os.getpid()} \\(ingest\\)"):  # never the same session twice
        manifest.case_lock("c").acquire()
    with manifest.case_lock("other"):  # another case is free
        pass
    held = first._conn
    first.release()
    second = manifest.case_lock("c")
    second.acquire()
    assert second._conn is held  # an unlocked connection is reused, not a new one each time
    second.release()
    manifest.close()


HOLDER = """
import sys, time
from assistant.index.sql.postgres import PgManifest
manifest = PgManifest(sys.argv[1])
with manifest.case_lock(sys.argv[2], wait=120):
    t0 = time.time()
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
    with open(sys.argv[4], "a") as out:
        out.write(f"{t0} {time.time()}\\n")
"""


def _holder(url: str, case: str, hold_s: float, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", HOLDER, url, case, str(hold_s), str(log)], cwd=ROOT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE)


@needs_pg
def test_writers_in_two_processes_take_turns_on_the_advisory_lock(tmp_path: Path, pg_url: str) -> None:
    log = tmp_path / "turns.txt"
    procs = [_holder(pg_url, "shared", 1.0, log) for _ in range(3)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 3
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end, spans  # never two holders at once
    other = _holder(pg_url, "other-case", 0.0, tmp_path / "other.txt")  # another case is not held up
    assert other.wait(timeout=60) == 0


@needs_pg
def test_an_ingest_waits_for_the_holder_and_its_death_frees_the_case(tmp_path: Path, pg_url: str) -> None:
    app = _app(tmp_path / "idx", pg_url)
    holder = _holder(pg_url, "locked", 600.0, tmp_path / "held.txt")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(CaseLocked, match=f"pid {holder.pid} \\(ingest\\) since .*--wait SECONDS"):
            app.ingest([_folder(tmp_path)], "locked", progress=False)
        assert not app.store.has_case("locked")  # nothing was changed
        assert not (tmp_path / "idx" / "locks" / "locked.lock").exists()  # not the per-machine file lock
    finally:
        holder.send_signal(signal.SIGKILL)  # the server ends its session and drops the lock
        holder.wait(timeout=30)
    report = app.ingest([tmp_path / "case"], "locked", progress=False, wait=30)
    assert sorted(report.ingested) == sorted(DOCS)


@needs_pg
@pytest.mark.slow  # a child `assistant ingest` loads the models
def test_a_killed_ingest_serves_nothing_of_its_pending_version(tmp_path: Path, pg_url: str) -> None:
    folder = _folder(tmp_path)
    index_dir = tmp_path / "idx"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_INDEX_DIR": str(index_dir),
           "ASSISTANT_LLM__BACKEND": "extractive", "ASSISTANT_INDEX__MANIFEST_URL": pg_url,
           KILL_ENV: "before_swap", KILL_AT_ENV: "2"}  # the second file dies with all its chunks written
    killed = subprocess.run([sys.executable, "-m", "assistant.cli.main", "ingest", str(folder), "--case", "crash",
                             "--no-progress", "--json"], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    app = _app(index_dir, pg_url)
    [pending] = app.store.manifest.pending("crash")
    served = app.store.manifest.served("crash")
    assert pending.source not in served and len(served) == 1
    assert {c.meta["source"] for c in app.store.iter_chunks("crash")} == set(served)
    assert app.store.count("crash") == sum(r.n_chunks for r in served.values())
    hits = app.retrieve("crash", DOCS[pending.source], top_k=10)
    assert pending.source not in {p.source for p in hits}  # its chunks are in Chroma, never served
    report = check(app.store, "crash")
    assert [p.kind for p in report.problems] == ["pending"] and report.problems[0].source == pending.source
    again = app.ingest([folder], "crash", progress=False)  # resumes: the pending version goes live
    assert pending.source in again.ingested and check(app.store, "crash").clean
    assert app.store.manifest.pending("crash") == [] and len(app.store.manifest.served("crash")) == 3


@needs_pg
def test_dedup_merges_across_two_files_with_the_postgres_store(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    from tests.test_cross_source_dedup import CHAT, lines_of, notes_of, write_txt, write_ufdr

    app = _app(tmp_path / "idx", pg_url)
    assert app.ingest([write_ufdr(tmp_path / "a", CHAT)], "dup", progress=False).ingested == ["report.xml"]
    second = app.ingest([write_txt(tmp_path / "b")], "dup", progress=False)
    assert second.ingested == ["WhatsApp Chat with Kira.txt"], second.failed
    assert "3 message(s) already indexed from report.xml: not indexed again, this file added to their provenance" \
        in notes_of(second, "WhatsApp Chat with Kira.txt")
    where = lines_of(app, "dup")
    for _, _, _, text in CHAT[:3]:
        assert [src for src, _ in where[text]] == ["report.xml"], text  # indexed once
        assert where[text][0][1].provenance[1].startswith("WhatsApp Chat with Kira#line ")
    assert check(app.store, "dup").clean and app.ingestor.dedup.problems("dup") == []
    with psycopg.connect(pg_url) as conn:
        merged = conn.execute("SELECT COUNT(DISTINCT message_id) FROM msg_keys WHERE case_id='dup' AND "
                              "status='merged'").fetchone()
    assert merged is not None and merged[0] == 3
    assert not (tmp_path / "idx" / "manifest.sqlite").exists()
