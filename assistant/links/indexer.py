"""Fill the cross-case identifier index: from chunks just committed by ingest, or rebuilt from the stored chunks
of every case (no PII tagging again: the PERSON spans tagged at ingest are stored with each chunk)."""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.links.identifiers import aliases, extract, names_from_entities
from assistant.links.store import ChunkMentions, LinkStore
from assistant.types import Chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkView:
    """The parts of a chunk the index reads (an ingested `Chunk` or a stored one)."""

    chunk_id: str
    source: str
    locator: str
    text: str
    person_spans: tuple[tuple[int, int], ...] = ()
    extra_texts: tuple[str, ...] = ()  # original-language message bodies, whose identifiers count too


def _message_bodies(meta: dict[str, Any]) -> tuple[str, ...]:
    raw = meta.get("messages")
    if not isinstance(raw, str):
        return ()
    try:
        records = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(r.get("body", "")) for r in records if isinstance(r, dict) and r.get("translation"))


def view_of_chunk(chunk: Chunk) -> ChunkView:
    persons = tuple((e.start, e.end) for e in chunk.entities if e.type == "PERSON")
    return ChunkView(chunk.chunk_id, chunk.source, chunk.locator, chunk.text, persons,
                     _message_bodies(dict(chunk.meta)))


def view_of_stored(chunk_id: str, text: str, meta: dict[str, Any]) -> ChunkView:
    try:
        raw = json.loads(str(meta.get("entities_json", "[]")))
        persons = tuple((int(s), int(e)) for t, s, e, *_ in raw if t == "PERSON")
    except (ValueError, TypeError):
        persons = ()
    return ChunkView(chunk_id, str(meta.get("source", "")), str(meta.get("locator", "")), text, persons,
                     _message_bodies(meta))


def chunk_mentions(view: ChunkView, region: str = "GB") -> ChunkMentions:
    counts: Counter[tuple[str, str]] = Counter()
    for text in (view.text, *view.extra_texts):
        for f in extract(text, region):
            counts[(f.value, f.type)] += 1
    declared: list[tuple[str, str]] = []
    alias_spans: set[tuple[int, int]] = set()
    for pair, name, alias in aliases(view.text):
        declared.append((pair.name, pair.alias))
        for f in (name, alias):
            counts[(f.value, f.type)] += 1
            alias_spans.add((f.start, f.end))
    for f in names_from_entities(view.text, view.person_spans):
        if not any(s <= f.start < e or f.start <= s < f.end for s, e in alias_spans):
            counts[(f.value, f.type)] += 1
    return ChunkMentions(view.chunk_id, view.locator, dict(counts), tuple(declared))


def index_source(store: LinkStore, case: str, source: str, views: Sequence[ChunkView], region: str = "GB") -> int:
    rows = store.replace_source(case, source, [chunk_mentions(v, region) for v in views])
    log.info("links indexed case=%s chunks=%d mentions=%d", case, len(views), rows)
    return rows


def index_chunks(store: LinkStore, case: str, source: str, chunks: Sequence[Chunk], region: str = "GB") -> int:
    """The ingest hook: called once a source's chunks are committed to the main index."""
    return index_source(store, case, source, [view_of_chunk(c) for c in chunks], region)


def mentions_of(chunks: Sequence[Chunk], region: str = "GB") -> list[ChunkMentions]:
    """The links rows of some of a source's chunks: the ingest of a large report in slices keeps these, not the
    chunks, and writes them all (`LinkStore.replace_source`) once the source is swapped in (`ingest.slices.index`)."""
    return [chunk_mentions(view_of_chunk(c), region) for c in chunks]


def rebuild_case(store: LinkStore, case: str, stored: Iterable[ChunkView], region: str = "GB") -> int:
    """Re-index one case from its stored chunks; sources no longer stored disappear from the index."""
    by_source: dict[str, list[ChunkView]] = defaultdict(list)
    for view in stored:
        by_source[view.source].append(view)
    store.drop_case(case)
    return sum(index_source(store, case, src, views, region) for src, views in sorted(by_source.items()))


def rebuild(store: LinkStore, cases: Sequence[str], stored_views: Callable[[str], Iterable[ChunkView]],
            region: str = "GB", progress: bool = True) -> tuple[int, int]:
    """Rebuild every case in `cases`; returns (cases, mention rows). Cases indexed but no longer stored are
    dropped."""
    for gone in set(store.cases()) - set(cases):
        store.drop_case(gone)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(cases), desc="links rebuild", unit="case")
    rows = 0
    for case in cases:
        rows += rebuild_case(store, case, stored_views(case), region)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return len(cases), rows
