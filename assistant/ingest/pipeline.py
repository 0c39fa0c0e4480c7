"""Ingest pipeline: discover → load → chunk → tag PII → embed → index, one file at a time.

Each file is committed on its own, so a crash loses at most the file in flight and the next run resumes;
one bad file is reported with its reason and never stops the batch."""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.index.embedding import Embedder
from assistant.index.languages.multilingual import MultilingualIndex
from assistant.index.manifest import SourceRow
from assistant.index.store import IndexStore, check_case_id
from assistant.ingest.batches import BatchWriter, resumed_note
from assistant.ingest.dedup.merger import Deduplicator, Plan
from assistant.ingest.isolation import ParserProcess
from assistant.ingest.languages import annotate_languages
from assistant.ingest.slices.index import MessageSpool, index_sliced
from assistant.ingest.translations import FILE as TRANSLATIONS_FILE
from assistant.ingest.translations import TranslationStore, attach
from assistant.loaders.limits import Limits
from assistant.pii.protected import CASE_FILE
from assistant.text.untranslated import count_untranslated, ingest_note
from assistant.types import Chunk, Document, Entity

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
CommitGuard = Callable[[str, str, str], AbstractContextManager[object]]  # (case, source, sha256)


class Tagger(Protocol):
    def tag_many(self, texts: list[str]) -> list[list[Entity]]: ...


class Prepared(NamedTuple):
    doc: Document  # its source and version only: messages are dropped once chunked (each chunk's meta holds its own)
    plan: Plan
    chunks: list[Chunk]


@dataclass
class IngestReport:
    case: str
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, str, str]] = field(default_factory=list)  # (source, old sha256, new sha256)
    notes: list[tuple[str, str]] = field(default_factory=list)
    not_evidence: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)  # protected-persons case files applied: never evidence
    chunks: int = 0
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("parse", "pii", "embed", "index", "finalize", "multilingual"), 0.0))

    @property
    def exit_code(self) -> int:
        """DESIGN.md: 0 if anything was ingested (or everything was already up to date), 2 if nothing could be."""
        return 0 if (self.ingested or self.unchanged or self.protected) else 2

    def applied(self, case_files: Sequence[Path]) -> None:
        """List the protected-persons files that were applied as such, not among the files that are not evidence."""
        for f in case_files:
            self.not_evidence = [n for n in self.not_evidence if n != f.name]
            self.protected.append(f.name)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "ingested": self.ingested, "unchanged": self.unchanged,
                "failed": [{"source": s, "reason": r} for s, r in self.failed],
                "replaced": [{"source": s, "old_sha256": a, "new_sha256": b} for s, a, b in self.replaced],
                "notes": [{"source": s, "note": n} for s, n in self.notes], "not_evidence": self.not_evidence,
                "protected_persons_files": self.protected, "chunks": self.chunks,
                "timings_s": {k: round(v, 3) for k, v in self.timings.items()}}


def _same_name(rel: str, holder: Path) -> str:
    return (f"same source name {rel!r} as {holder.as_posix()}, ingested earlier in this batch; refused, not "
            "replaced (rename it, or ingest it into another case)")


def origin_of(root: Path) -> str:
    """Where a source came from: the ingest root as an absolute path, or "upload" for files under Gradio's upload
    folder (GRADIO_TEMP_DIR, default TMPDIR/gradio), whose per-upload folders mean nothing to a reviewer."""
    uploads = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()
    resolved = root.resolve()
    return "upload" if resolved.is_relative_to(uploads) else resolved.as_posix()


def is_not_evidence(rel: str, patterns: Sequence[str]) -> bool:
    """A top-level file of the ingested folder named like a README or notes about the export (the setting
    `ingest.not_evidence`), or the case's protected-persons file whatever the setting; anything in a subfolder is
    evidence."""
    return "/" not in rel and any(fnmatch.fnmatchcase(rel.lower(), p.lower()) for p in (*patterns, CASE_FILE))


def finalize(store: IndexStore, case: str, report: IngestReport, lock_wait: float | None = None) -> None:
    """Build the case's keyword index once per ingest, not on the first question. A failure here loses nothing: the
    first question builds it instead. `lock_wait`: take the case lock first, waiting up to that long (the queued
    ingest of `assistant.workers.enqueue`); None when the caller already holds it (`Ingestor.ingest`)."""
    t0 = time.perf_counter()
    try:
        with store.manifest.case_lock(case, wait=lock_wait) if lock_wait is not None else contextlib.nullcontext():
            store.finalize(case)
    except Exception as exc:
        report.notes.append(("(case)", f"keyword index not built at ingest ({type(exc).__name__}: {exc}); the "
                                       "first question will build it"))
        log.exception("finalize failed case=%s", case)
    report.timings["finalize"] += time.perf_counter() - t0


class Ingestor:
    def __init__(self, settings: Settings, store: IndexStore, embedder: Embedder, tagger: Tagger,
                 tokenizer: Any) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.tagger = tagger
        self.tokenizer = tokenizer
        self.on_committed: Callable[[str, str, list[Chunk]], object] | None = None  # e.g. the links index
        self.link_mentions: Callable[[str, str, list[Chunk], bool], object] | None = None  # staged: ingest.slices
        self.on_mentions: Callable[[str, str, int], object] | None = None  # the staged ones committed (n chunks)
        self.multilingual: MultilingualIndex | None = None  # embeds non-English originals a second time
        # held around one source's writes; ingest workers (assistant.workers) take the case lock there
        self.commit_guard: CommitGuard = lambda case, source, sha: contextlib.nullcontext()
        self.translations = TranslationStore(store.index_dir / TRANSLATIONS_FILE)  # joined to messages at index
        caps = settings.ingest
        self.limits = Limits(caps.max_file_mb, caps.max_streamed_mb, caps.max_zip_ratio)
        self.parser = ParserProcess(caps.parse_timeout_s, caps.parse_memory_mb)  # one worker, reused across files
        self.dedup = Deduplicator(store)  # duplicates across sources (ingest.dedup)

    def ingest(self, paths: Sequence[Path], case: str, *, progress: bool = True,
               on_progress: ProgressFn | None = None, origin: str | None = None, wait: float = 0.0,
               on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Ingest under the case's cross-process lock (CaseLocked when another writer holds it past `wait` s).
        `origin` overrides where the files came from (default: each file's ingest root, see `origin_of`)."""
        check_case_id(case)
        with self.store.manifest.case_lock(case, wait=wait, on_wait=on_wait):
            return self._ingest_locked(paths, case, progress, on_progress, origin)

    def _ingest_locked(self, paths: Sequence[Path], case: str, progress: bool, on_progress: ProgressFn | None,
                       origin: str | None) -> IngestReport:
        from assistant.loaders import discover_files, relative_source

        report = IngestReport(case=case)
        self.dedup.begin(case)
        found, refused = discover_files([Path(p) for p in paths])
        for p, reason in refused:  # missing, unsupported, or not a regular file inside its root: never opened
            report.failed.append((p.as_posix(), reason))
        from tqdm import tqdm

        bar = tqdm(total=len(found), desc=f"ingest {case}", unit="file") if progress else None
        holders: dict[str, Path] = {}  # source name -> the file of this batch that holds it in the index
        for done, (path, root) in enumerate(found, start=1):
            rel = relative_source(path, root)
            try:
                if rel in holders:  # two roots, one name: never let the second silently replace the first
                    report.failed.append((path.as_posix(), _same_name(rel, holders[rel])))
                elif is_not_evidence(rel, self.settings.ingest.not_evidence):
                    report.not_evidence.append(rel)
                else:
                    self._ingest_one(path, root, rel, case, origin or origin_of(root), report)
                    holders[rel] = path
            except IngestError as exc:
                report.failed.append((rel, exc.reason))
                log.warning("ingest failed source_sha=%s reason=%s", hashlib.sha1(rel.encode()).hexdigest()[:10],
                            exc.reason)
            except Exception as exc:  # a loader bug must not abort the batch either
                report.failed.append((rel, f"unexpected error: {type(exc).__name__}: {exc}"))
                log.exception("ingest crashed on one file; continuing")
            if bar is not None:
                bar.update(1)
            if on_progress is not None:
                on_progress(done, len(found), rel)
        if bar is not None:
            bar.close()
        self.settle_duplicates(case, report)
        if report.ingested:
            finalize(self.store, case, report)
        return report

    def settle_duplicates(self, case: str, report: IngestReport) -> None:
        """After sources were replaced or removed (the caller holds the case lock): a source whose merged messages
        lost their holder is indexed again from where it came from, or a note says to ingest it again."""
        failed: set[str] = set()
        while True:  # re-indexing one source can orphan no other, but it can leave more to re-point
            orphaned = [rel for rel in self.dedup.settle(case) if rel not in failed]
            if not orphaned:
                return
            for rel in orphaned:
                row = self.store.source_state(case, rel)
                root = Path(row.origin) if row is not None and row.origin not in ("", "upload") else None
                try:
                    if row is None or root is None or not (root / rel).is_file():
                        raise IngestError(rel, "not found where it was ingested from")
                    self._ingest_one(root / rel, root, rel, case, row.origin, report, force=True)
                    report.notes.append((rel, "indexed again: messages merged into a source that was removed or "
                                              "replaced"))
                except IngestError as exc:
                    failed.add(rel)
                    report.notes.append((rel, "some of its messages were merged into a source that was removed or "
                                              f"replaced, and it could not be read again ({exc.reason}): ingest it "
                                              "again"))

    def _ingest_one(self, path: Path, root: Path, rel: str, case: str, origin: str, report: IngestReport,
                    force: bool = False) -> None:
        with MessageSpool() as spool:  # the messages on disk: a large report is indexed a slice at a time
            parsed = self.parse_one(path, root, rel, case, origin, report, force, spool)
            if parsed is None or index_sliced(self, parsed, spool, case, origin, report):
                return
            prepared, old_sha, t0 = self.prepare(replace(parsed[0], messages=tuple(spool)), case), parsed[1], parsed[2]
        del parsed  # the chunks carry every message: nothing here keeps the parsed ones alive (bench_ingest_memory)
        self.index_document(prepared.doc, case, origin, report, old_sha, t0, prepared=prepared)

    def parse_one(self, path: Path, root: Path, rel: str, case: str, origin: str, report: IngestReport,
                  force: bool = False, spool: MessageSpool | None = None) -> tuple[Document, str | None, float] | None:
        """Read and parse one file: (document, served sha256 or None, start time), or None when its bytes are
        already the served version (reported unchanged). `spool`: the messages go there, not in the document."""
        from assistant.loaders import read_source

        t0 = time.perf_counter()
        read = read_source(path, root, self.limits)  # read once: the hash is of the bytes that are parsed
        sha = read.sha256
        old = self.store.source_state(case, rel)
        if old is not None and old.sha256 == sha and not force:
            report.unchanged.append(rel)
            return None
        if old is not None and old.origin and old.origin != origin:
            raise IngestError(rel, f"a different file (sha256 {old.sha256[:12]}) is already indexed under this name "
                                   f"from {old.origin}; this one (sha256 {sha[:12]}, from {origin}) was refused, not "
                                   f"replaced: remove the old one first (`assistant remove --case {case} {rel}`) or "
                                   "rename this one")
        doc, notes = self.parser.parse(read, None if spool is None else spool.add)  # in the worker, limited
        report.notes.extend((rel, note) for note in notes)
        return doc, old.sha256 if old is not None else None, t0

    def prepare(self, doc: Document, case: str) -> Prepared:
        """Merge duplicates, attach translations, chunk and annotate languages (IngestError: no text to index)."""
        from assistant.ingest.chunking import chunk_document

        doc, plan = self.dedup.plan(case, doc)
        if doc.messages:
            doc = attach(doc, self.translations.for_source(case, doc.source))[0]
        chunks = chunk_document(doc, case, self.tokenizer, self.settings)
        if not chunks and not plan.n_merged:
            raise IngestError(doc.source, "no text to index")
        return Prepared(replace(doc, messages=()), plan, annotate_languages(chunks, self.settings.language))

    def index_document(self, doc: Document, case: str, origin: str, report: IngestReport, old_sha: str | None,
                       t0: float, *, prepared: Prepared | None = None, parts: bool = False) -> None:
        """Chunk, tag, embed and write one parsed document (also the re-index of a translated source). `parts`: its
        chunks were written by the part tasks of a split file (assistant.workers.split), so finding them committed
        is expected, not a resume worth a note."""
        rel, sha = doc.source, doc.sha256
        doc, plan, chunks = prepared or self.prepare(doc, case)
        report.notes.extend((rel, note) for note in plan.notes())
        t1 = time.perf_counter()
        writer = BatchWriter(self.store, case, SourceRow(rel, sha, origin, len(chunks)),
                             self.settings.ingest.commit_batch)
        tagged = writer.write(chunks, self.tag_chunks, self.embedder.for_case(case).embed_texts, report.timings,
                              guard=lambda: self.commit_guard(case, rel, sha),  # writes locked, tagging not
                              side=self.multilingual)  # non-English originals: written in the same batches
        if writer.resumed and not parts:
            report.notes.append((rel, resumed_note(writer.resumed, len(chunks))))
        t3 = time.perf_counter()
        untranslated = count_untranslated(tagged)
        if untranslated:
            report.notes.append((rel, ingest_note(untranslated)))
        with self.commit_guard(case, rel, sha):
            self.dedup.record(case, doc, plan, tagged)  # before the swap: rows of an unserved version never count
            writer.swap(self.multilingual)
            self.dedup.committed(case, doc)
            if old_sha is not None and old_sha != sha:
                report.replaced.append((rel, old_sha, sha))
            if self.on_committed is not None:
                self.on_committed(case, rel, tagged)
        t4 = time.perf_counter()
        for key, dt in (("parse", t1 - t0), ("index", t4 - t3)):  # pii, embed, multilingual: the writer
            report.timings[key] += dt
        report.ingested.append(rel)
        report.chunks += len(tagged)

    def tag_chunks(self, chunks: Sequence[Chunk]) -> list[Chunk]:
        entities = self.tagger.tag_many([c.text for c in chunks])
        return [replace(c, entities=tuple(ents)) for c, ents in zip(chunks, entities, strict=True)]
