"""`assistant ingest --workers`: discover the files here, send one task per file to the workers, show each file's
outcome as it comes back, then build the case's keyword index once (under the case lock), as the in-process ingest
does. The result is the same `IngestReport` the single-process pipeline returns."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError
from assistant.index.store import check_case_id
from assistant.ingest.pipeline import IngestReport, finalize, is_not_evidence, origin_of
from assistant.workers.celery_app import TASK, make_celery, redacted
from assistant.workers.progress import EventFn, Progress, Tracker
from assistant.workers.settings import WorkerSettings

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)


def check_workers(celery: Any, settings: WorkerSettings) -> int:
    """How many worker nodes answer; an error saying what to do when the broker or every worker is down."""
    try:
        replies = celery.control.ping(timeout=2.0)
    except Exception as exc:
        raise AssistantError(f"the workers' broker {redacted(settings.broker_url)} does not answer "
                             f"({type(exc).__name__}): start it with `assistant workers broker`") from exc
    if not replies:
        raise AssistantError(f"no ingest worker answers on {redacted(settings.broker_url)}: start them with "
                             "`assistant workers start --n N` (nothing was queued)")
    return len(replies)


def ingest_queued(app: App, paths: Sequence[Path], case: str, *, settings: WorkerSettings | None = None,
                  origin: str | None = None, on_event: EventFn | None = None,
                  on_status: Callable[[Progress], None] | None = None, actor: str = "") -> IngestReport:
    """As `App.ingest`: a protected.json at an ingest root protects its persons first, audited as `actor`.
    `on_event` is called as each file finishes, `on_status` after each look at the tasks (progress counts)."""
    from assistant.access.accounts import cli_identity
    from assistant.ingest.pipeline import _same_name
    from assistant.loaders import discover_files, relative_source
    from assistant.pii.protected import protect_case_files

    settings = settings or WorkerSettings()
    check_case_id(case)
    celery = make_celery(settings)
    check_workers(celery, settings)
    applied = protect_case_files(app.settings.index_dir, app.audit, actor or cli_identity(), case, paths)
    report = IngestReport(case=case)
    found, refused = discover_files([Path(p) for p in paths])
    report.failed.extend((p.as_posix(), reason) for p, reason in refused)
    holders: dict[str, Path] = {}
    tracker = Tracker(celery, report)
    for path, root in found:
        rel = relative_source(path, root)
        if rel in holders:  # two roots, one name: refused, as in the single-process ingest
            report.failed.append((path.as_posix(), _same_name(rel, holders[rel])))
        elif is_not_evidence(rel, app.settings.ingest.not_evidence):
            report.not_evidence.append(rel)
        else:
            holders[rel] = path
            args = [case, str(path.resolve()), str(root.resolve()), origin or origin_of(root)]
            tracker.add(rel, celery.send_task(TASK, args=args, queue=settings.queue))
    log.info("queued case=%s files=%d", case, len(tracker.files))
    while True:
        status = tracker.poll(on_event)
        if on_status is not None:
            on_status(status)
        if not tracker.pending:
            break
        time.sleep(settings.poll_s)
    if report.ingested:
        finalize(app.store, case, report, lock_wait=settings.lock_wait_s)
    report.applied(applied)
    return report
