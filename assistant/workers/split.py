"""Huge extractions split into tasks (issue 19): a phone extraction of 200k messages is ~50k chunks, hours of tagging
and embedding, too much for one task on one core.

The file's task parses it once (`Ingestor.parse_one`, in the parse child under its limits) and chunks it. Up to
`workers.part_chunks` chunks it is ingested there, whole, as before. Above, the document and its chunks go to a spool
(`workers.spool`, data only) and the task sends a Celery chord: one part task per range of `part_chunks` chunks, then
one commit task when every part has returned.

- a part task tags, embeds and writes its range in batches of `ingest.commit_batch` (`BatchWriter.write(part=True)`,
  each write under the case lock), into the version's pending chunks: nothing serves them yet;
- the commit task runs the ordinary `Ingestor.index_document` on the spooled document: every chunk the parts wrote
  is found committed and kept (the resume of issue 14, keyed by chunk id and content hash), any chunk a failed part
  did not write is tagged and embedded there, and the version is swapped in by one manifest transaction, exactly as
  a whole file is. So the counts are those of a single-process ingest of the same file.

A worker killed with SIGKILL in a part hands that part back to the queue (acks late, rejected on worker loss); its
re-run finds the batches written before the kill and redoes only the rest of that range."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import IngestError
from assistant.index.manifest import SourceRow
from assistant.ingest.batches import BatchWriter
from assistant.ingest.wire import Malformed
from assistant.workers.spool import read_chunks, read_doc, read_head, remove_spool, spool_dir, write_spool

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.ingest.pipeline import IngestReport
    from assistant.workers.settings import WorkerSettings

log = logging.getLogger(__name__)
TASK_PART = "assistant.ingest_part"
TASK_COMMIT = "assistant.ingest_commit"


class AlreadyServed(Exception):
    """The version being committed is already the served one (another delivery of the same task wrote it)."""


def ranges(n: int, size: int) -> list[tuple[int, int]]:
    """[start, end) ranges of `size` chunks covering n chunks, the last one shorter."""
    return [(start, min(start + size, n)) for start in range(0, n, max(1, size))]


def ingest_or_split(app: App, settings: WorkerSettings, celery: Any, case: str, path: Path, root: Path, source: str,
                    origin: str, report: IngestReport) -> dict[str, Any]:
    """Ingest one file here, or split it: {} when it was handled here (see `report`), else {"split": {commit_id,
    part_ids, chunks}} with the ids of the tasks that will ingest it."""
    ing = app.ingestor
    parsed = ing.parse_one(path, root, source, case, origin, report)
    if parsed is None:
        return {}
    doc, old_sha, t0 = parsed
    prepared = ing.prepare(doc, case)
    n = len(prepared.chunks)
    if n <= settings.part_chunks:
        ing.index_document(doc, case, origin, report, old_sha, t0, prepared=prepared)
        return {}
    from celery import chord

    folder = spool_dir(app.store.index_dir, case, doc.source, doc.sha256)
    write_spool(folder, doc, prepared.chunks, origin, old_sha or "")
    parts = [celery.signature(TASK_PART, args=[case, str(folder), a, b], queue=settings.queue, immutable=True)
             for a, b in ranges(n, settings.part_chunks)]
    part_ids = [part.freeze().id for part in parts]
    body = celery.signature(TASK_COMMIT, args=[case, str(folder), doc.source, doc.sha256], queue=settings.queue,
                            immutable=True)
    commit = chord(parts, app=celery)(body)
    report.timings["parse"] += time.perf_counter() - t0
    log.info("file split case=%s chunks=%d parts=%d", case, n, len(parts))
    return {"split": {"commit_id": commit.id, "part_ids": part_ids, "chunks": n}}


def ingest_part(app: App, case: str, folder: str, start: int, end: int) -> dict[str, Any]:
    """Tag, embed and write chunks [start, end) of a split file; its result: how many it wrote, how many it found
    already written (a re-run after a kill), timings. A problem is returned, not raised: the commit redoes the range."""
    ing = app.ingestor
    timings: dict[str, float] = {}
    try:
        head = read_head(Path(folder))
        chunks = read_chunks(Path(folder), start, end)
        row = SourceRow(head["source"], head["sha256"], head["origin"], head["n_chunks"])
        writer = BatchWriter(app.store, case, row, app.settings.ingest.commit_batch)
        writer.write(chunks, ing.tag_chunks, ing.embedder.for_case(case).embed_texts, timings,
                     guard=lambda: ing.commit_guard(case, row.source, row.sha256), part=True, side=ing.multilingual)
    except AlreadyServed:
        return {"status": "served", "pid": os.getpid()}
    except FileNotFoundError:  # the commit of another delivery already removed the spool
        return {"status": "served", "pid": os.getpid()}
    except (IngestError, Malformed) as exc:
        reason = exc.reason if isinstance(exc, IngestError) else str(exc)
        return {"status": "failed", "reason": reason, "pid": os.getpid()}
    return {"status": "done", "written": len(chunks) - writer.resumed, "resumed": writer.resumed,
            "timings_s": {k: round(v, 3) for k, v in timings.items()}, "pid": os.getpid()}


def commit_split(app: App, case: str, folder: str, source: str, sha256: str, report: IngestReport) -> None:
    """After the parts: index the spooled document (keeping what the parts wrote), swap it in, remove the spool."""
    t0 = time.perf_counter()
    try:
        head, doc = read_head(Path(folder)), read_doc(Path(folder))
    except FileNotFoundError:
        served = app.store.source_state(case, source)
        if served is not None and served.sha256 == sha256:  # another delivery of this commit finished it
            report.unchanged.append(source)
            return
        raise IngestError(source, "its split ingest lost its spool before the commit: ingest it again") from None
    except Malformed as exc:
        remove_spool(Path(folder))
        raise IngestError(source, f"its split ingest's spool is unreadable ({exc}): ingest it again") from None
    try:
        app.ingestor.index_document(doc, case, head["origin"], report, head["old_sha256"] or None, t0, parts=True)
    except AlreadyServed:
        report.unchanged.append(source)
    except IngestError:  # the document itself: reported, never retried
        remove_spool(Path(folder))
        raise
    remove_spool(Path(folder))
