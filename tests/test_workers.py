"""Ingest workers (issue 19): a real redis-server on a free loopback port, real Celery worker processes started by
`assistant workers start`, the real pipeline in them. A worker process is killed with SIGKILL in the middle of a file;
the batch still ends with exactly the counts a single-process ingest of the same files gives."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import AssistantError
from assistant.procs import stop_process
from assistant.workers.broker import RedisServer, redis_binary, redis_config
from assistant.workers.celery_app import check_broker_url, redacted
from assistant.workers.settings import WorkerSettings

ROOT = Path(__file__).resolve().parent.parent
needs_redis = pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed (Debian package "
                                 "redis-server: scripts/install_redis.sh, called by make install)")
WORDS = ("the van left the depot after the handover and the driver called twice before the meeting at the station "
         "where the parcel was kept overnight in a locker near the platform while the others waited outside").split()
NAMES = ("Marta Kowalski", "Daniel Reyes", "Priya Nair", "Tomasz Lis", "Aoife Byrne", "Samuel Okoro")


def write_corpus(folder: Path, files: int, paragraphs: int, seed: int = 7) -> Path:
    """Synthetic statements (names and phone numbers for the PII tagger), one empty file that must fail."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for n in range(files):
        lines = []
        for _ in range(paragraphs):
            words = " ".join(rng.choice(WORDS) for _ in range(60))
            lines.append(f"{rng.choice(NAMES)} said {words}. Call 07700 900{rng.randint(100, 999)} later.")
        (folder / f"statement_{n:02d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def test_broker_config_and_url_rules(tmp_path: Path) -> None:
    conf = redis_config(tmp_path, "127.0.0.1", 6390, password="pw", persist=False)
    assert "bind 127.0.0.1" in conf and "protected-mode yes" in conf and 'requirepass "pw"' in conf
    assert 'rename-command CONFIG ""' in conf and "appendonly no" in conf
    assert check_broker_url(WorkerSettings(broker_url="redis://127.0.0.1:6390/0"))
    with pytest.raises(AssistantError, match="not on this machine"):
        check_broker_url(WorkerSettings(broker_url="redis://10.1.2.3:6379/0"))
    with pytest.raises(AssistantError, match="rediss://"):
        check_broker_url(WorkerSettings(broker_url="redis://:pw@10.1.2.3:6379/0", allow_remote=True))
    assert check_broker_url(WorkerSettings(broker_url="rediss://:pw@10.1.2.3:6379/0", allow_remote=True))
    assert redacted("redis://:secret@127.0.0.1:1/0") == "redis://:***@127.0.0.1:1/0"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "broker", password="test-pass", persist=False) as server:
        yield server


def env_for(index_dir: Path, broker: RedisServer) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_INDEX_DIR": str(index_dir),
            "ASSISTANT_WORKERS__BROKER_URL": broker.url, "ASSISTANT_WORKERS__POLL_S": "0.2",
            "ASSISTANT_LOG_LEVEL": "INFO", "OMP_NUM_THREADS": "1"}


def wait_for_workers(celery: Any, settings: WorkerSettings, deadline: float) -> None:
    from assistant.workers.enqueue import check_workers

    while True:
        try:
            check_workers(celery, settings)
            return
        except AssistantError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextmanager
def running_workers(env: dict[str, str], broker_url: str, log_path: Path, n: int = 2) -> Iterator[None]:
    """`assistant workers start --n N` in a child process (its log in `log_path`), up and answering on exit from
    the `with` line; stopped (SIGTERM, then SIGKILL after 60 s) when the block ends."""
    from assistant.workers.celery_app import make_celery

    settings = WorkerSettings(broker_url=broker_url)
    with log_path.open("wb") as log:
        workers = subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "workers", "start", "--n", str(n),
                                    "--loglevel", "INFO"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_for_workers(make_celery(settings), settings, time.monotonic() + 300)
            yield
        finally:
            stop_process(workers, grace_s=60)


def queued_ingest(env: dict[str, str], case: str, corpus: Path) -> subprocess.Popen[bytes]:
    """`assistant ingest --workers --json` of `corpus` into `case`, running in a child process."""
    return subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "ingest", "--workers", "--json",
                             "--case", case, str(corpus)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)


def started_task(client: Any, deadline: float) -> tuple[str, int]:
    """(task id, worker process pid) of a task a worker has started and not finished."""
    while time.monotonic() < deadline:
        for key in client.scan_iter("celery-task-meta-*"):
            meta = json.loads(client.get(key) or b"{}")
            if meta.get("status") == "STARTED":
                return meta["task_id"], int(meta["result"]["pid"])
        time.sleep(0.05)
    raise AssertionError("no task was started by the workers in time")


def kill_mid_file(client: Any, deadline: float) -> tuple[str, int]:
    """SIGKILL the worker process of a started task, a moment into its file (parsing, tagging or embedding)."""
    while True:
        task_id, pid = started_task(client, deadline)
        time.sleep(0.2)
        meta = json.loads(client.get(f"celery-task-meta-{task_id}") or b"{}")
        if meta.get("status") == "STARTED":  # still inside that file
            os.kill(pid, signal.SIGKILL)
            return task_id, pid


def served_counts(index_dir: Path, case: str, chroma_url: str = "") -> tuple[dict[str, int], dict[tuple[str, str], int],
                                                                          int, int]:
    from assistant.config import IndexSettings
    from assistant.index.store import IndexStore

    store = IndexStore(index_dir, chroma=IndexSettings(chroma_url=chroma_url))
    served = {s: row.n_chunks for s, row in store.manifest.served(case).items()}
    census = {key: len(ids) for key, ids in store.census(case).items()}
    return served, census, sum(census.values()), len(store.manifest.pending(case))  # census: every chunk in Chroma


@needs_redis
@pytest.mark.slow
def test_kill_9_of_a_worker_mid_file_still_gives_exact_counts(tmp_path: Path, broker: RedisServer) -> None:
    import redis

    from assistant.app import App
    from assistant.config import load_settings
    from assistant.workers.celery_app import make_celery
    from assistant.workers.enqueue import check_workers

    corpus = write_corpus(tmp_path / "corpus", files=4, paragraphs=30)
    celery = make_celery(WorkerSettings(broker_url=broker.url))
    with pytest.raises(AssistantError, match="no ingest worker answers"):  # nothing queued without a worker
        check_workers(celery, WorkerSettings(broker_url=broker.url))

    single = App(load_settings(index_dir=tmp_path / "single")).ingest([corpus], "wcase", progress=False)
    assert len(single.ingested) == 4 and [s for s, _ in single.failed] == ["empty.txt"]

    queued_dir = tmp_path / "queued"
    env = env_for(queued_dir, broker)
    with running_workers(env, broker.url, tmp_path / "workers.log"):
        ingest = queued_ingest(env, "wcase", corpus)
        client = redis.Redis.from_url(broker.url)
        task_id, _pid = kill_mid_file(client, time.monotonic() + 300)
        out, err = ingest.communicate(timeout=600)
        assert ingest.returncode == 0, err.decode(errors="replace")[-3000:]
        report = json.loads(out)
        assert int(client.get(f"assistant:deliveries:{task_id}") or 0) == 2  # the killed file was run again

    assert sorted(report["ingested"]) == sorted(single.ingested)
    assert report["chunks"] == single.chunks
    assert {f["source"]: f["reason"] for f in report["failed"]} == dict(single.failed)
    want, want_census, want_total, _ = served_counts(tmp_path / "single", "wcase")
    got, census, total, pending = served_counts(queued_dir, "wcase")
    assert got == want and total == want_total == sum(want.values())  # no chunk lost, none twice
    assert census == want_census and len(census) == len(got) and pending == 0  # one version per source


def _make_key(args: tuple[str, float]) -> bytes:
    from assistant.index.embedding import CaseCaches

    root, start = args
    while time.time() < start:  # both processes reach the key at the same moment
        pass
    try:
        return CaseCaches(Path(root), "m")._key()
    except Exception as exc:
        return repr(exc).encode()


def test_two_processes_creating_a_case_cache_key_at_once_agree(tmp_path: Path) -> None:
    """Workers start on a new index together: both must end with the same whole 32-byte key, neither may fail
    (before the fix, 3 rounds in 200 failed here: one process read the key before the other had written it)."""
    import multiprocessing

    wrong = 0
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for n in range(200):
            root, start = str(tmp_path / f"r{n}"), time.time() + 0.02
            keys = pool.map(_make_key, [(root, start), (root, start)])
            wrong += not (keys[0] == keys[1] and len(keys[0]) == 32)
    assert wrong == 0
    assert sorted(p.name for p in (tmp_path / "r0").iterdir()) == [".key"]
