"""The provenance a reviewer sees on a held message: its own sources, then every other source merged into it.

A holder chunk's `meta["messages"]` carries each message's phone record (JSON with its `provenance`); the other
sources' entries are appended there and also listed in `meta["also_from"]` (message id -> entries), so the next sync
can take them out again (a merged source removed or replaced) without touching the holder's own entries. Only
metadata changes: chunk text and vectors stay as they are."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assistant.index.store import IndexStore
from assistant.ingest.dedup.table import KeyTable
from assistant.loaders.phone.records import record_of
from assistant.text.messages import META_KEY, MessageRecord, encode_records, message_records

log = logging.getLogger(__name__)

ALSO_KEY = "also_from"
PAGE = 256


def _also(meta: dict[str, Any]) -> dict[str, list[str]]:
    try:
        found = json.loads(str(meta.get(ALSO_KEY) or "{}"))
    except ValueError:
        return {}
    return {str(k): [str(p) for p in v] for k, v in found.items()} if isinstance(found, dict) else {}


def with_extras(record: MessageRecord, old: list[str], new: list[str]) -> MessageRecord:
    phone = record_of(record.phone)
    if phone is None:
        return record
    own = tuple(p for p in phone.provenance if p not in old)
    merged = replace(phone, provenance=tuple(dict.fromkeys((*own, *new))))
    return replace(record, phone=json.dumps(merged.to_dict(), ensure_ascii=False, sort_keys=True))


def sync(store: IndexStore, table: KeyTable, case: str) -> int:
    """Recompute the shown provenance of every holder message marked in the table's todo list; returns the number
    of chunks rewritten. Marks of versions no longer served are simply dropped."""
    todo = table.todo(case)
    if not todo:
        return 0
    served = {src: row.sha256 for src, row in store.manifest.served(case).items()}
    by_holder: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, sha, msg in todo:
        if served.get(source) == sha:
            by_holder[(source, sha)].add(msg)
    rewritten = 0
    for (source, sha), msgs in sorted(by_holder.items()):
        rewritten += _patch(store, table, case, source, sha, sorted(table.chunks_of(case, source, sha, msgs)))
    table.done(case, todo)
    if rewritten:
        store.manifest.bump(case)  # cached catalogs of the case now hold stale metadata
        store.wrote(case)
    log.info("dedup provenance sync case=%s holders=%d chunks=%d", case, len(by_holder), rewritten)
    return rewritten


def _patch(store: IndexStore, table: KeyTable, case: str, source: str, sha: str, chunk_ids: Sequence[str]) -> int:
    col = store.side_collection(case, "")
    done = 0
    for start in range(0, len(chunk_ids), PAGE):
        got = store.get_chunks(case, chunk_ids[start : start + PAGE])
        ids, metas = [], []
        for cid, chunk in got.items():
            records = message_records(chunk.meta)
            extras = table.extras(case, source, sha, [r.message_id for r in records])
            old = _also(chunk.meta)
            meta = dict(chunk.meta)
            meta[META_KEY] = encode_records(with_extras(r, old.get(r.message_id, []), extras.get(r.message_id, []))
                                            for r in records)
            meta[ALSO_KEY] = json.dumps(extras, ensure_ascii=False, sort_keys=True)
            ids.append(cid)
            metas.append(meta)
        if ids:
            col.update(ids=ids, metadatas=metas)
            done += len(ids)
    return done

