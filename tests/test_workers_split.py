"""Huge extractions split into tasks (issue 19): a WhatsApp export of a few thousand messages is parsed once, spooled,
ingested by part tasks of a few chunks each on real Celery workers (real redis on loopback), and committed once.
A worker process is killed with SIGKILL in the middle of a part: only that part runs again, and the case ends with
exactly the chunks, served versions and census of a single-process ingest of the same file."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.ingest.wire import Malformed
from assistant.types import Chunk, Document, Message
from assistant.workers.split import ranges
from assistant.workers.spool import read_chunks, read_doc, read_head, spool_dir, write_spool
from tests.test_workers import env_for, needs_redis, queued_ingest, running_workers, served_counts

PEOPLE = ("Kira Lane", "Sam Owner", "Marta Kowalski", "Daniel Reyes")
WORDS = ("meet the van at the depot bring the bag and the keys before nine call me when the parcel is at the "
         "station locker near platform two").split()


def write_chat(folder: Path, messages: int, seed: int = 11) -> Path:
    """A WhatsApp .txt export: `messages` lines over a few days, with names and phone numbers for the PII tagger."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    lines = []
    for n in range(messages):
        day, minute = 1 + n // 600, n % 600
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        if n % 25 == 0:
            text += f" or ring 07700 900{rng.randint(100, 999)}"
        lines.append(f"{day:02d}/03/2024, {8 + minute // 60:02d}:{minute % 60:02d} - {rng.choice(PEOPLE)}: {text}")
    (folder / "WhatsApp Chat with Kira.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_ranges_cover_every_chunk_once() -> None:
    assert ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert ranges(8, 4) == [(0, 4), (4, 8)]
    assert [i for a, b in ranges(1001, 7) for i in range(a, b)] == list(range(1001))


def test_spool_round_trip_and_a_tampered_spool_is_refused(tmp_path: Path) -> None:
    msgs = tuple(Message(f"m{i}", "t1", f"2024-03-01T08:{i:02d}:00", "Kira Lane", f"body {i}") for i in range(3))
    doc = Document("chat.txt", "messages", "", "ab" * 32, messages=msgs)
    chunks = [Chunk(f"c{i}", "case1", "chat.txt", f"messages {i}", f"text {i} \u00e9", i, i + 1, f"h{i}", "ab" * 32,
                    "messages", {"page": i, "score": 0.5, "flag": True, "thread": "t1"}) for i in range(5)]
    folder = spool_dir(tmp_path, "case1", doc.source, doc.sha256)
    assert folder.is_relative_to(tmp_path / "spool" / "case1") and "chat" not in folder.name  # no evidence name
    assert write_spool(folder, doc, iter(chunks), "/evidence", "") == 5
    assert read_doc(folder) == doc
    assert read_head(folder) == {"source": "chat.txt", "sha256": "ab" * 32, "origin": "/evidence", "old_sha256": "",
                                 "n_chunks": 5}
    assert read_chunks(folder, 1, 4) == chunks[1:4]
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.iterdir())
    with pytest.raises(Malformed, match="holds 5 chunks"):
        read_chunks(folder, 3, 7)
    lines = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[2])
    row[5] = "not an offset"
    (folder / "chunks.jsonl").write_text("\n".join([*lines[:2], json.dumps(row), *lines[3:]]) + "\n")
    with pytest.raises(Malformed, match="wrong type"):
        read_chunks(folder, 0, 5)
    assert read_chunks(folder, 3, 5) == chunks[3:5]  # only the lines a part needs are decoded


def admin_ingest_on_workers(tmp_path: Path, index_dir: Path, broker_url: str,
                            monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[tuple[int, int, str]]]:
    """The Admin tab's ingest handler on an App attached to the workers as `assistant serve --ingest-workers` does."""
    from assistant.access.session import Session
    from assistant.app import App
    from assistant.cli.workers import attach_queued_ingest
    from assistant.config import load_settings
    from assistant.ui import admin as ui_admin
    from tests.test_workers import write_corpus

    monkeypatch.setenv("ASSISTANT_WORKERS__BROKER_URL", broker_url)
    monkeypatch.setenv("ASSISTANT_WORKERS__POLL_S", "0.2")
    app = App(load_settings(index_dir=index_dir))
    app.settings.ui.ingest_roots = [str(tmp_path / "ui")]  # the folder field reads under configured roots only
    app.users.add_user("boss", "a-long-admin-pass", "admin")
    attach_queued_ingest(app)
    seen: list[tuple[int, int, str]] = []
    md = ui_admin.ingest(Session.for_username(app, "boss"), "uicase", str(write_corpus(tmp_path / "ui", 2, 3)),
                         on_progress=lambda done, total, line: seen.append((done, total, line)))
    return md, seen


def started_part(client: Any, deadline: float) -> tuple[str, int]:
    """(task id, worker pid) of a part task that a worker has started and not finished."""
    while time.monotonic() < deadline:
        for key in client.scan_iter("celery-task-meta-*"):
            meta = json.loads(client.get(key) or b"{}")
            if meta.get("status") == "STARTED" and meta.get("name") == "assistant.ingest_part":
                return meta["task_id"], int(meta["result"]["pid"])
        time.sleep(0.05)
    raise AssertionError("no part task was started by the workers in time")


@needs_redis
@pytest.mark.slow
def test_a_split_file_with_a_worker_killed_mid_part_gives_exact_counts(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Then the Admin tab's ingest, queued on the same workers (`serve --ingest-workers`), shows its progress."""
    import redis

    from assistant.app import App
    from assistant.config import load_settings
    from assistant.workers.broker import RedisServer

    corpus = write_chat(tmp_path / "corpus", messages=1500)
    single = App(load_settings(index_dir=tmp_path / "single")).ingest([corpus], "scase", progress=False)
    assert single.ingested == ["WhatsApp Chat with Kira.txt"] and not single.failed
    part = max(2, single.chunks // 5)  # five or six parts
    queued_dir = tmp_path / "queued"
    with RedisServer(tmp_path / "broker", password="test-pass", persist=False) as broker:
        env = {**env_for(queued_dir, broker), "ASSISTANT_WORKERS__PART_CHUNKS": str(part),
               "ASSISTANT_INGEST__COMMIT_BATCH": "4"}
        with running_workers(env, broker.url, tmp_path / "workers.log"):
            ingest = queued_ingest(env, "scase", corpus)
            client = redis.Redis.from_url(broker.url)
            killed, pid = started_part(client, time.monotonic() + 300)
            time.sleep(1.0)  # into the part (tagging, embedding or writing one of its batches)
            assert json.loads(client.get(f"celery-task-meta-{killed}") or b"{}")["status"] == "STARTED"
            os.kill(pid, signal.SIGKILL)
            out, err = ingest.communicate(timeout=900)
            assert ingest.returncode == 0, err.decode(errors="replace")[-3000:]
            report = json.loads(out)
            deliveries = {k.decode().rsplit(":", 1)[1]: int(client.get(k) or 0)
                          for k in client.scan_iter("assistant:deliveries:*")}
            ui_md, seen = admin_ingest_on_workers(tmp_path, queued_dir, broker.url, monkeypatch)

    assert "**Ingest finished**" in ui_md and "**not ingested**" in ui_md  # the table, with the reasons
    assert seen[-1][:2] == (3, 3) and "3/3 files: 2 done, 1 failed, 0 running, 0 queued" in seen[-1][2]
    assert seen[0][0] < 3 and [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)  # shown as files finished
    progress = err.decode(errors="replace")
    assert "parts of split files" in progress and "[1/1] ingested: WhatsApp Chat with Kira.txt" in progress
    n_parts = len(ranges(single.chunks, part))
    assert len(deliveries) == 1 + n_parts + 1  # the file's task, its parts, one commit
    assert deliveries.pop(killed) == 2 and set(deliveries.values()) == {1}  # only the killed part ran again
    assert report["ingested"] == single.ingested and report["chunks"] == single.chunks and not report["failed"]
    assert not any(n["note"].startswith("resumed") for n in report["notes"])
    commits = [line for line in (tmp_path / "workers.log").read_text(errors="replace").splitlines()
               if "assistant.ingest_commit[" in line and " succeeded " in line]  # Celery logs each task's result
    assert len(commits) == 1 and "'pii': 0.0, 'embed': 0.0" in commits[0]  # the parts wrote every chunk
    want, want_census, want_total, _ = served_counts(tmp_path / "single", "scase")
    got, census, total, pending = served_counts(queued_dir, "scase")
    assert got == want and total == want_total == single.chunks  # no chunk lost, none twice
    assert census == want_census and pending == 0
    assert not any((queued_dir / "spool" / "scase").iterdir())  # the spool is removed once the version is served
