"""Index a large message document a slice of whole threads at a time (issue 13: the parent's memory no longer grows
with the report). What `Ingestor.prepare` + `index_document` do to a whole document is done to each slice in turn:
duplicates planned, translations attached, chunked (ids and message indices numbered across slices, so exactly the
whole document's chunks: tests/test_slices.py), languages annotated, then tagged, embedded and written through the
version's `BatchWriter` as one range of it (`write(part=True)`, resumable per chunk id as a split file's parts are),
and the slice's duplicate-key rows added. Only then, once, what the whole document gets: chunks of a crashed try that
this chunking no longer makes deleted, the swap with the total count, the old version's rows and chunks dropped, and
the links index given every chunk's mentions, staged slice by slice in the links store (`LinkStore.stage`: on disk,
read by no one until `commit_staged` at the swap), so the parent keeps neither the chunks nor their mentions.

A crash mid-file leaves a pending version (never served) whose written chunks the next ingest of the same bytes finds
and keeps, as for a whole file; its duplicate-key rows are rewritten from the first slice on."""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.index.keywords.merged import version_id_pages
from assistant.index.manifest import SourceRow
from assistant.index.store import READ_PAGE
from assistant.ingest import chunking
from assistant.ingest.batches import BatchWriter, SideIndex, resumed_note
from assistant.ingest.dedup.merger import Plan
from assistant.ingest.languages import annotate_languages
from assistant.ingest.slices import thread_slices
from assistant.ingest.slices.spool import MessageSpool
from assistant.ingest.translations import attach
from assistant.text.untranslated import count_untranslated, ingest_note
from assistant.types import Chunk, Document

if TYPE_CHECKING:
    from assistant.ingest.pipeline import Ingestor, IngestReport

__all__ = ["MessageSpool", "index_sliced"]

log = logging.getLogger(__name__)

# The setting ingest.slice_messages: messages a slice holds (whole threads, so a slice can be longer by its last
# thread). Its default 20,000 is not tuned: the parent's parse-stage slope was 1.49 MB per MB of report, ~1.5 KB a
# message (docs/scale.md, bench_ingest_memory.py at 256 MB), so a slice of 20,000 messages is ~30 MB of messages plus
# its chunks; a 1 GB report is ~1.07M messages, 54 slices. Tests set it small (a few slices of a small report).


def index_sliced(ing: Ingestor, parsed: tuple[Document, str | None, float], messages: MessageSpool, case: str,
                 origin: str, report: IngestReport) -> bool:
    """Index the parsed document (`Ingestor.parse_one`) whose messages are `messages` in slices, and say so; False,
    doing nothing, when it is small enough to be indexed whole, when its threads are not each together (never from
    the phone loaders, which order by thread) or when the links hooks are not set both ways."""
    doc, old_sha, t0 = parsed
    hooks = (ing.link_mentions is None) == (ing.on_mentions is None) == (ing.on_committed is None)
    size = ing.settings.ingest.slice_messages
    if len(messages) <= size or not messages.grouped or not hooks:
        return False
    rel, sha = doc.source, doc.sha256
    writer = BatchWriter(ing.store, case, SourceRow(rel, sha, origin, 0), ing.settings.ingest.commit_batch)

    def guard() -> AbstractContextManager[object]:  # writes locked, tagging not
        return ing.commit_guard(case, rel, sha)

    total, n, kept, resumed, untranslated = Plan(), 0, 0, 0, 0
    t1 = time.perf_counter()
    for k, part in enumerate(thread_slices(iter(messages), size)):
        sliced, plan = ing.dedup.plan(case, replace(doc, messages=part.messages))
        chunks: list[Chunk] = []  # none when every message of the slice was merged into another source
        if sliced.messages:
            sliced = attach(sliced, ing.translations.for_source(case, rel))[0]
            chunks = annotate_languages(chunking.chunk_document(sliced, case, ing.tokenizer, ing.settings,
                                                                offset=kept, first=n), ing.settings.language)
        tagged = writer.write(chunks, ing.tag_chunks, ing.embedder.for_case(case).embed_texts, report.timings,
                              guard=guard, part=True, side=ing.multilingual) if chunks else []
        with guard():  # the first slice's rows replace any of a crashed try; the others' are added
            ing.dedup.record(case, sliced, plan, tagged, fresh=k == 0)
            if ing.link_mentions is not None:  # staged in the links store, read by no one until on_mentions
                ing.link_mentions(case, rel, tagged, k == 0)
        resumed, untranslated = resumed + (writer.resumed if chunks else 0), untranslated + count_untranslated(tagged)
        n, kept = n + len(chunks), kept + len(sliced.messages)
        total.merged.update(plan.merged)
        total.conflicts.update(plan.conflicts)
        log.info("slice indexed case=%s messages=%d chunks=%d", case, len(part.messages), len(chunks))
    report.notes.extend((rel, note) for note in total.notes())
    if resumed:
        report.notes.append((rel, resumed_note(resumed, n)))
    if untranslated:
        report.notes.append((rel, ingest_note(untranslated)))
    t3 = time.perf_counter()
    writer.row = SourceRow(rel, sha, origin, n)  # the count, known once every slice is chunked
    with guard():
        _drop_beyond(writer, n, ing.multilingual)
        writer.swap(ing.multilingual)
        ing.dedup.committed(case, doc)
        if old_sha is not None and old_sha != sha:
            report.replaced.append((rel, old_sha, sha))
        if ing.on_mentions is not None:
            ing.on_mentions(case, rel, n)
    for key, dt in (("parse", t1 - t0), ("index", time.perf_counter() - t3)):
        report.timings[key] += dt
    report.ingested.append(rel)
    report.chunks += n
    return True


def _drop_beyond(writer: BatchWriter, n: int, side: SideIndex | None) -> None:
    """Chunks of this version numbered n or more: written by a crashed try whose chunking made more (other settings),
    never made by this one (a whole file's `write` deletes them up front). Ids end in the chunk's number."""
    col = writer.store.side_collection(writer.case, "")
    pages = version_id_pages(col, writer.row.source, writer.row.sha256, READ_PAGE)
    stale = [cid for ids in pages for cid in ids if int(cid.rsplit(":", 1)[1]) >= n]
    for start in range(0, len(stale), READ_PAGE):
        col.delete(ids=stale[start : start + READ_PAGE])
    writer.ledger.forget(stale)  # their term records no longer count (finalize would otherwise list the version's ids)
    if side is not None and stale:
        side.prune(writer.case, writer.row, (), set(stale))
