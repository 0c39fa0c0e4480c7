"""The ingest steps of cross-source duplicate merging, called by the pipeline (under the case lock):

    plan      -> which messages of a new source version are already indexed from another source (dropped from the
                 document, so never chunked, embedded or indexed again) and which conflict (kept, reported);
    record    -> before the manifest swap: the version's key rows (with the chunks that hold each message);
    committed -> after the swap: old rows pruned, the holders' shown provenance recomputed;
    settle    -> after a source is removed or replaced: a merged message whose holder is gone is re-pointed to
                 another source that holds the same message, else its source is returned to be indexed again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant.index.store import IndexStore
from assistant.ingest.dedup import provenance
from assistant.ingest.dedup.keys import MessageKeys, keys_of
from assistant.ingest.dedup.table import Holder, KeyTable, Row
from assistant.text.messages import message_records
from assistant.types import Chunk, Document

log = logging.getLogger(__name__)


@dataclass
class Plan:
    keyed: list[tuple[MessageKeys, Holder | None]] = field(default_factory=list)
    merged: Counter[str] = field(default_factory=Counter)  # holder source -> messages merged into it
    conflicts: Counter[str] = field(default_factory=Counter)  # other source -> same key, different content

    @property
    def n_merged(self) -> int:
        return sum(self.merged.values())

    def notes(self) -> list[str]:
        out = [f"{n} message(s) already indexed from {src}: not indexed again, this file added to their provenance"
               for src, n in sorted(self.merged.items())]
        out += [f"{n} message(s) share an app message id or sender, minute and text with {src} but differ (text, "
                "attachments or deleted state): conflict, both kept" for src, n in sorted(self.conflicts.items())]
        return out


class Deduplicator:
    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self.table = KeyTable(store.manifest.open_db())  # beside the manifest, in its store

    def begin(self, case: str) -> None:
        """Finish what a crashed writer left: rows of unserved versions, provenance not yet recomputed."""
        pruned = self.table.prune(case)
        provenance.sync(self.store, self.table, case)
        if pruned:
            log.info("dedup pruned case=%s rows=%d", case, pruned)

    def plan(self, case: str, doc: Document) -> tuple[Document, Plan]:
        plan = Plan()
        if not doc.messages:
            return doc, plan
        drop: set[str] = set()
        for message in doc.messages:
            keys = keys_of(message)
            if keys is None:
                continue
            holder = self.table.match(case, doc.source, keys)
            plan.keyed.append((keys, holder))
            if holder is not None and holder.same:
                drop.add(message.message_id)
                plan.merged[holder.source] += 1
            elif holder is not None:
                plan.conflicts[holder.source] += 1
        if drop:
            doc = replace(doc, messages=tuple(m for m in doc.messages if m.message_id not in drop))
        return doc, plan

    def record(self, case: str, doc: Document, plan: Plan, chunks: Sequence[Chunk], fresh: bool = True) -> None:
        """The version's key rows; `fresh` False: one more slice of it (`ingest.slices`), added to the rows of the
        slices before, not replacing them."""
        holding: dict[str, list[str]] = {}
        for chunk in chunks:
            for rec in message_records(chunk.meta):
                holding.setdefault(rec.message_id, []).append(chunk.chunk_id)
        rows = (Row(keys, holder, tuple(dict.fromkeys(holding.get(keys.message_id, ()))))
                for keys, holder in plan.keyed)
        self.table.write(case, doc.source, doc.sha256, rows, fresh)

    def committed(self, case: str, doc: Document) -> None:
        self.table.drop_other_versions(case, doc.source, doc.sha256)
        self.table.mark_held(case, doc.source, doc.sha256)
        provenance.sync(self.store, self.table, case)

    def settle(self, case: str) -> list[str]:
        """Re-point merged messages whose holder left the case; returns the sources that must be indexed again
        because some of their messages are now held by no served source."""
        self.table.prune(case)
        orphaned: set[str] = set()
        handled: set[tuple[str, str, str]] = set()
        for source, sha, msg, content, key in self.table.dangling(case):
            if (source, sha, msg) in handled:
                continue
            other = self.table.same_indexed(case, source, key, content)
            if other is not None:
                self.table.repoint(case, source, sha, msg, other)
                handled.add((source, sha, msg))
        for source, sha, msg, _, _ in self.table.dangling(case):
            if (source, sha, msg) not in handled:
                orphaned.add(source)
        provenance.sync(self.store, self.table, case)
        return sorted(orphaned)

    def problems(self, case: str) -> list[str]:
        """What a crash can leave in the key table (for `assistant fsck`); [] when it agrees with the manifest."""
        found = []
        stale, todo, dangling = self.table.stale(case), len(self.table.todo(case)), len(self.table.dangling(case))
        if stale:
            found.append(f"{stale} message-key row(s) of versions the case does not serve (never counted)")
        if todo:
            found.append(f"{todo} held message(s) whose shown provenance was not yet recomputed")
        if dangling:
            found.append(f"{dangling} merged message key(s) whose holder left the case")
        return found

    def delete_case(self, case: str) -> None:
        self.table.delete_case(case)
