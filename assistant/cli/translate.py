"""`assistant translate --case C [--lang pl] [--limit N] [--force] [--json]`: machine-translate untranslated messages
with the configured model backend (assistant/translate/run.py). Audited as the OS user running it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App


def run_translate(args: argparse.Namespace, app: App) -> int:
    from assistant.access.accounts import cli_identity
    from assistant.translate.action import run_translation

    if not app.store.has_case(args.case):
        raise AssistantError(f"case {args.case!r} not found: ingest it first")
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"translate {args.case}", unit="msg")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    report = run_translation(app, args.case, cli_identity(), via="cli", lang=args.lang, limit=args.limit,
                             force=args.force, on_progress=progress)
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for why in report.refused.values():
            print(f"not translated: {why}", file=sys.stderr)
        for source, message_id, reason in report.failed:
            print(f"failed: {source} message {message_id}: {reason}", file=sys.stderr)
        print(f"case {report.case}: {report.translated} of {report.pending} untranslated message(s) machine-translated "
              f"by {report.model} (machine translation, not verified); {len(report.reindexed)} source(s) re-indexed")
    return 0 if report.translated or not report.pending else 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tr = sub.add_parser("translate", help="machine-translate a case's untranslated messages (stored beside the "
                                          "originals, labelled 'machine translation, not verified')")
    tr.add_argument("--case", required=True)
    tr.add_argument("--lang", default="", help="only messages in this language (ISO 639-1, e.g. pl)")
    tr.add_argument("--limit", type=int, default=0, help="translate at most N messages this run (resumable)")
    tr.add_argument("--force", action="store_true",
                    help="also translate languages whose measured chrF is below the threshold")
    tr.add_argument("--json", action="store_true")
    tr.add_argument("--no-progress", action="store_true")
    tr.set_defaults(func=run_translate)
