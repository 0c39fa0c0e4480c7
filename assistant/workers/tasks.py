"""The ingest task: one file, run in a worker process that builds its `App` (embedder, PII tagger, tokenizer, parser
process, store) once, when the process starts, and reuses it for every file it is given.

The heavy part (parse, chunk, tag, embed) runs unlocked, in parallel across workers. Only the write of a source
takes the case lock (`commit_guard`, `manifest.case_lock`: a file lock, or PostgreSQL's advisory lock across machines),
because the manifest's swap and embedded Chroma assume one writer per case at a time; under the lock the served
version is read again, and a file that another run already committed (a task handed out twice) is reported unchanged
instead of written twice."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IngestError
from assistant.workers.split import TASK_COMMIT, TASK_PART, AlreadyServed, commit_split, ingest_or_split, ingest_part

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.ingest.pipeline import IngestReport
    from assistant.workers.settings import WorkerSettings

log = logging.getLogger(__name__)
_app: App | None = None
DELIVERY_TTL_S = 7 * 86400


def worker_app(lock_wait_s: float = 600.0) -> App:
    """This process' App, built and warmed on first use (once per worker process)."""
    global _app
    if _app is None:
        from assistant.app import App

        app = App()
        app.embedder.embed_texts(["warm up"])  # load the models now, not inside the first file's time
        app.pii.tag("warm up")
        ingestor = app.ingestor
        ingestor.commit_guard = lambda case, source, sha: commit_guard(app, lock_wait_s, case, source, sha)
        _app = app
        log.info("worker models loaded pid=%d", os.getpid())
    return _app


@contextlib.contextmanager
def commit_guard(app: App, wait: float, case: str, source: str, sha: str) -> Iterator[None]:
    with app.store.manifest.case_lock(case, wait=wait):
        served = app.store.source_state(case, source)
        if served is not None and served.sha256 == sha:
            raise AlreadyServed(source)
        yield


def outcome(report: IngestReport, **extra: Any) -> dict[str, Any]:
    """The task's JSON result: what happened to the one file (not its name: Celery logs results)."""
    status = ("ingested" if report.ingested else "unchanged" if report.unchanged else "failed" if report.failed
              else "not_evidence")
    return {"status": status, "reason": report.failed[0][1] if report.failed else "",
            "chunks": report.chunks, "notes": [n for _, n in report.notes],
            "replaced": [[a, b] for _, a, b in report.replaced],
            "timings_s": {k: round(v, 3) for k, v in report.timings.items()}, "pid": os.getpid(), **extra}


def poisoned(settings: WorkerSettings, deliveries: int, retries: int) -> str:
    """The reason not to run a task again whose worker process died `workers.max_deliveries` times, or ""."""
    died = deliveries - 1 - retries  # earlier deliveries that ended without a result: the worker process died
    if died < settings.max_deliveries:
        return ""
    return (f"the worker process died {died} times on this file (killed, or out of memory); not run again (setting "
            "workers.max_deliveries)")


def ingest_file(settings: WorkerSettings, celery: Any, deliveries: int, retries: int, case: str, path: str, root: str,
                origin: str) -> dict[str, Any]:
    from assistant.ingest.pipeline import IngestReport
    from assistant.loaders import relative_source

    report = IngestReport(case=case)
    source = relative_source(Path(path), Path(root))
    if reason := poisoned(settings, deliveries, retries):
        report.failed.append((source, reason))
        return outcome(report, deliveries=deliveries)
    app = worker_app(settings.lock_wait_s)
    split: dict[str, Any] = {}
    try:
        split = ingest_or_split(app, settings, celery, case, Path(path), Path(root), source, origin, report)
    except IngestError as exc:  # the file itself is bad: reported now, never retried
        report.failed.append((source, exc.reason))
    except AlreadyServed:
        report.unchanged.append(source)
    log.info("worker file done case=%s status=%s chunks=%d deliveries=%d split=%s", case, outcome(report)["status"],
             report.chunks, deliveries, bool(split))
    return outcome(report, deliveries=deliveries, **split)


def commit_file(settings: WorkerSettings, deliveries: int, retries: int, case: str, folder: str, source: str,
                sha256: str) -> dict[str, Any]:
    from assistant.ingest.pipeline import IngestReport

    report = IngestReport(case=case)
    if reason := poisoned(settings, deliveries, retries):
        report.failed.append((source, reason))
        return outcome(report, deliveries=deliveries)
    try:
        commit_split(worker_app(settings.lock_wait_s), case, folder, source, sha256, report)
    except IngestError as exc:
        report.failed.append((source, exc.reason))
    return outcome(report, deliveries=deliveries)


def register(celery: Any, settings: WorkerSettings) -> None:
    """Register the ingest tasks on `celery` (a file; a part and the commit of a split file), and the model loading
    of each new worker process."""
    from celery.signals import worker_process_init

    from assistant.workers.celery_app import TASK

    retry = dict(bind=True, autoretry_for=(Exception,), max_retries=settings.max_retries, retry_backoff=2,
                 retry_backoff_max=60, retry_jitter=False)

    def delivered(task: Any) -> tuple[int, int]:
        """(how many times this task was delivered, counting this one; its retries so far)."""
        key = f"assistant:deliveries:{task.request.id}"
        client = task.backend.client
        deliveries = int(client.incr(key))
        client.expire(key, DELIVERY_TTL_S)
        return deliveries, int(task.request.retries or 0)

    @celery.task(name=TASK, **retry)  # type: ignore[untyped-decorator]
    def ingest_task(self: Any, case: str, path: str, root: str, origin: str) -> dict[str, Any]:
        return ingest_file(settings, self.app, *delivered(self), case, path, root, origin)

    @celery.task(name=TASK_PART, **retry)  # type: ignore[untyped-decorator]
    def part_task(self: Any, case: str, folder: str, start: int, end: int) -> dict[str, Any]:
        deliveries, retries = delivered(self)
        if reason := poisoned(settings, deliveries, retries):  # the commit does this range itself
            return {"status": "failed", "reason": reason, "pid": os.getpid()}
        return ingest_part(worker_app(settings.lock_wait_s), case, folder, start, end)

    @celery.task(name=TASK_COMMIT, **retry)  # type: ignore[untyped-decorator]
    def commit_task(self: Any, case: str, folder: str, source: str, sha256: str) -> dict[str, Any]:
        return commit_file(settings, *delivered(self), case, folder, source, sha256)

    def load_models(**_: Any) -> None:
        worker_app(settings.lock_wait_s)

    worker_process_init.connect(load_models, weak=False)
