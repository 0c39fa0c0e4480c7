"""Progress of a queued ingest (`assistant ingest --workers`, the Admin tab): which files are queued, running, done
or failed, how many parts of the split files have returned and how many chunks are written, read from the tasks'
states and results in the Celery result backend (Redis). Results carry counts, statuses and reasons, never passage
text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.ingest.pipeline import IngestReport

# (files finished, files in all, the outcome of the one just finished: source, status, reason, chunks)
EventFn = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    running: int
    done: int  # ingested, unchanged or not evidence
    failed: int
    parts_done: int
    parts_total: int
    chunks: int  # written so far (parts returned, files finished)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def line(self) -> str:
        parts = f"; parts of split files {self.parts_done}/{self.parts_total}" if self.parts_total else ""
        return (f"{self.finished}/{self.total} files: {self.done} done, {self.failed} failed, {self.running} running, "
                f"{self.queued} queued{parts}; {self.chunks} chunks")


@dataclass
class _File:
    source: str
    result: Any  # the task waited on: the file's, then the commit of a split file
    state: str = "queued"  # queued, running, done, failed
    parts: list[Any] = field(default_factory=list)
    parts_seen: dict[str, int] = field(default_factory=dict)  # part id -> chunks it wrote or found written


def merge(report: IngestReport, source: str, result: Any, ok: bool) -> dict[str, Any]:
    """Fold one task's result into the report; returns the outcome (a task that failed after its retries too)."""
    if not ok:
        reason = f"the worker failed on it after its retries: {type(result).__name__}: {result}"
        report.failed.append((source, reason))
        return {"source": source, "status": "failed", "reason": reason, "chunks": 0}
    out: dict[str, Any] = {**result, "source": source}
    status = out["status"]
    if "split" in out:  # parsed and split: the parts and the commit report the rest
        status = out["status"] = "split"
    elif status == "ingested":
        report.ingested.append(source)
        report.chunks += int(out["chunks"])
    elif status == "unchanged":
        report.unchanged.append(source)
    elif status == "failed":
        report.failed.append((source, str(out["reason"])))
    report.notes.extend((source, str(n)) for n in out.get("notes", []))
    report.replaced.extend((source, str(a), str(b)) for a, b in out.get("replaced", []))
    for key, value in out.get("timings_s", {}).items():
        report.timings[key] = report.timings.get(key, 0.0) + float(value)
    return out


class Tracker:
    """The files of one queued ingest and their tasks; `poll` folds what finished into the report."""

    def __init__(self, celery: Any, report: IngestReport) -> None:
        self.celery = celery
        self.report = report
        self.files: list[_File] = []

    def add(self, source: str, result: Any) -> None:
        self.files.append(_File(source, result))

    @property
    def pending(self) -> bool:
        return any(f.state in ("queued", "running") for f in self.files)

    def poll(self, on_event: EventFn | None = None) -> Progress:
        for f in self.files:
            if f.state not in ("queued", "running"):
                continue
            self._parts(f)
            if not f.result.ready():
                f.state = "running" if f.parts or f.result.state == "STARTED" else "queued"
                continue
            out = merge(self.report, f.source, f.result.get(propagate=False), f.result.successful())
            f.result.forget()
            if out["status"] == "split":
                f.state = "running"
                f.result = self.celery.AsyncResult(out["split"]["commit_id"])
                f.parts = [self.celery.AsyncResult(pid) for pid in out["split"]["part_ids"]]
                continue
            f.state = "failed" if out["status"] == "failed" else "done"
            for part in f.parts:
                part.forget()
            if on_event is not None:
                on_event(sum(g.state in ("done", "failed") for g in self.files), len(self.files), out)
        return self.progress()

    def _parts(self, f: _File) -> None:
        for part in f.parts:
            if part.id in f.parts_seen or not part.ready():
                continue
            out = part.get(propagate=False) if part.successful() else {}
            f.parts_seen[part.id] = int(out.get("written", 0)) + int(out.get("resumed", 0))
            for key, value in out.get("timings_s", {}).items():
                self.report.timings[key] = self.report.timings.get(key, 0.0) + float(value)

    def progress(self) -> Progress:
        count = {s: sum(f.state == s for f in self.files) for s in ("queued", "running", "done", "failed")}
        chunks = self.report.chunks + sum(sum(f.parts_seen.values()) for f in self.files if f.state == "running")
        return Progress(len(self.files), count["queued"], count["running"], count["done"], count["failed"],
                        sum(len(f.parts_seen) for f in self.files), sum(len(f.parts) for f in self.files), chunks)

