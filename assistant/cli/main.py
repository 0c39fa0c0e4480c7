"""`assistant` command line: ingest, ask, tag, eval, serve, cases, demo, users, audit, fsck, remove (DESIGN.md
contract)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from assistant.cli.ask_server import server_port
from assistant.cli.terminal import shown, terminal_json
from assistant.errors import AssistantError
from assistant.offline import apply_offline_env, install_egress_guard, install_kernel_guard, model_hosts
from assistant.perms import restrict_umask
from assistant.workers.settings import WorkerSettings

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.ingest.pipeline import IngestReport

log = logging.getLogger("assistant")

EXIT_CODES = """exit codes (every command):
  0  done
  2  nothing done: bad input or a problem you can fix (the message says which and why), or nothing could be ingested
  1  internal error, or a check that failed (an eval below its threshold, an audit log that does not verify)"""


def _app() -> App:
    from assistant.app import App

    return App()


def _audit_ingest(app: App, case: str, paths: int, report: IngestReport) -> None:
    """A command-line ingest is recorded like the Admin tab's, as the OS user running it."""
    from assistant.access.accounts import cli_identity

    app.audit.append("ingest", cli_identity(), case, {"paths": paths, "via": "cli", "report": report.to_json()})


def cmd_ingest(args: argparse.Namespace, app: App) -> int:
    from assistant.access.accounts import cli_identity

    if args.workers:  # one task per file, run by `assistant workers start` processes
        from assistant.cli.workers import ingest_with_workers

        report = ingest_with_workers(app, [Path(p) for p in args.paths], args.case, not args.no_progress,
                                     cli_identity())
    else:
        report = app.ingest([Path(p) for p in args.paths], args.case, progress=not args.no_progress,
                            wait=args.wait, on_wait=lambda message: print(message, file=sys.stderr),
                            actor=cli_identity())
    _audit_ingest(app, args.case, len(args.paths), report)
    if args.json:
        print(terminal_json(report.to_json()))
    else:
        _print_ingest_report(report)
    return report.exit_code


def _print_ingest_report(report: IngestReport, err: TextIO | None = None) -> None:
    """Names and reasons come from the evidence: control characters (a terminal escape in a name) print escaped."""
    err = err or sys.stderr
    for source, reason in report.failed:
        print(f"skipped: {shown(source)}: {shown(reason)}", file=err)
    for source, note in report.notes:
        print(f"note: {shown(source)}: {shown(note)}", file=err)
    for source, old, new in report.replaced:
        print(f"replaced: {shown(source)} (sha256 {old[:12]} \u2192 {new[:12]})", file=err)
    for source in report.not_evidence:
        print(f"not evidence (case-folder README/notes; setting ingest.not_evidence): {shown(source)}", file=err)
    for source in report.protected:
        print(f"protected-persons file applied (not evidence, never indexed): {shown(source)}", file=err)
    print(f"case {report.case}: {len(report.ingested)} ingested, {len(report.unchanged)} unchanged, "
          f"{len(report.failed)} skipped, {report.chunks} chunks")


def _print_answer_text(answer_json: dict[str, object]) -> None:
    print(answer_json["answer"])
    print(f"\n(backend: {answer_json['backend']}{' / ' + str(answer_json['model']) if answer_json['model'] else ''})")
    for c in answer_json["citations"]:  # type: ignore[attr-defined]
        mark = "verified" if c["verified"] else "UNVERIFIED"
        print(f"[{c['n']}] {c['source']} — {c['locator']} ({mark})\n    \"{c['quote']}\"")
    for note in answer_json.get("notes", []):  # type: ignore[attr-defined]
        print(f"note: {note}")


def cmd_ask(args: argparse.Namespace, app: App) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise AssistantError("empty question: assistant ask --case CASE 'your question'")
    payload = None
    if not args.local:
        from assistant.cli.ask_server import forward

        request = {"case": args.case, "question": question, "user": args.user, "role": args.role,
                   "purpose": args.purpose}
        payload = forward(app.settings.index_dir, request, app.settings.llm.timeout_s + 60)
    if payload is None:
        from assistant.access.accounts import cli_identity

        answer = app.ask(args.case, question, user=cli_identity(args.user), purpose=args.purpose)
        if args.role:
            answer = app.mask_answer(answer, args.role)
        payload = answer.to_json()
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_answer_text(payload)
    return 0


def cmd_tag(args: argparse.Namespace, app: App) -> int:
    text = sys.stdin.read()
    entities = app.pii.tag(text)
    if args.json:
        print(json.dumps([e.to_json() for e in entities], ensure_ascii=False))
    else:
        for e in entities:
            print(f"{e.type}\t{e.start}-{e.end}\t{e.score:.2f}\t{e.text}")
    return 0


def cmd_eval(args: argparse.Namespace, app: App) -> int:
    from evals.runner import cli_main

    return cli_main(args.suite, args.json, args.quick)


def _demo_app(app: App) -> App:
    """The App over the demo index (settings.demo_index_dir), whatever ASSISTANT_INDEX_DIR says."""
    from assistant.access.demo import is_demo_index
    from assistant.app import App

    s = app.settings
    if is_demo_index(s):
        return app
    print(f"note: the demo lives in its own index {s.demo_index_dir}, never in {s.index_dir}", file=sys.stderr)
    return App(s.model_copy(update={"index_dir": s.demo_index_dir}))


def cmd_serve(args: argparse.Namespace, app: App) -> int:
    from assistant.access.demo import check_serve_allowed

    served = _demo_app(app) if args.demo else app
    check_serve_allowed(served)  # before the UI is even imported; serve() checks again for other callers
    if args.ingest_workers:
        from assistant.cli.workers import attach_queued_ingest

        attach_queued_ingest(served)
    from assistant.ui.build import serve
    serve(served)
    return 0


def cmd_cases(args: argparse.Namespace, app: App) -> int:
    if args.delete:
        existed = app.delete_case(args.delete, user=args.user)
        print(f"case {args.delete}: {'deleted' if existed else 'not found; left-over files removed'} (vectors, "
              "text, keyword index, embedding cache, links)")
        return 0 if existed else 2
    for gone in app.purge_orphan_caches():
        print(f"removed the embedding cache of deleted case {gone}", file=sys.stderr)
    for case in app.list_cases():
        print(f"{case}\t{app.store.count(case)} chunks\t{len(app.store.sources(case))} sources")
    return 0


def cmd_demo(args: argparse.Namespace, app: App) -> int:
    """Ingest the bundled demo cases (a no-op when unchanged) into the demo index and create the documented demo
    users there, once."""
    from assistant.access.demo import seed_demo_users
    from assistant.cli.protect import protect
    from assistant.pii.protected import read_persons_file

    app = _demo_app(app)
    s = app.settings
    report = app.ingest([s.demo_dir], s.demo_case, progress=not args.no_progress)
    _audit_ingest(app, s.demo_case, 1, report)
    print(f"demo case {s.demo_case}: {len(report.ingested)} ingested, {len(report.unchanged)} unchanged, "
          f"{len(report.failed)} skipped")
    for source, reason in report.failed:
        print(f"skipped: {source}: {reason}", file=sys.stderr)
    plover = Path("demo/operation-plover")  # the second demo case: it shares identifiers with kestrel
    if plover.exists():
        _audit_ingest(app, "plover", 1, app.ingest([plover], "plover", progress=False))
    if (child := s.demo_dir.parent / f"{s.demo_case}_protected.json").exists():  # the demo's child victim
        protect(app, s.demo_case, read_persons_file(child), "demo")
    created = seed_demo_users(app)
    print(f"demo accounts: {', '.join(created)} created in {s.index_dir}" if created else
          f"demo accounts were created earlier in {s.index_dir}: left as they are")
    return report.exit_code


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="Offline investigative assistant", epilog=EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="ingest files and folders into a case")
    ing.add_argument("paths", nargs="+")
    ing.add_argument("--case", required=True)
    ing.add_argument("--json", action="store_true")
    ing.add_argument("--no-progress", action="store_true")
    ing.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="when another process is writing the case, wait up to this long (default: fail at once)")
    ing.add_argument("--workers", action="store_true", help="queue one task per file for the ingest workers "
                     "(`assistant workers start`) and show each file's outcome; default: ingest in this process")
    ing.set_defaults(func=cmd_ingest)

    ask = sub.add_parser("ask", help="ask a question about one case")
    ask.add_argument("--case", required=True)
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--user", default="", help="a name recorded only as a claim: the audit log records the "
                     "operating-system user running the command ('X (claimed) via OS user Y')")
    ask.add_argument("--purpose", default="", help="why you ask (recorded with the question in the audit log)")
    ask.add_argument("--role", default="", help="mask PII as this role would see it (default: clear text)")
    ask.add_argument("--local", action="store_true", help="answer in this process even when an ask-server runs")
    ask.add_argument("question", nargs="+")
    ask.set_defaults(func=cmd_ask)

    tag = sub.add_parser("tag", help="tag PII in text read from stdin")
    tag.add_argument("--json", action="store_true")
    tag.set_defaults(func=cmd_tag)

    ev = sub.add_parser("eval", help="run an evaluation suite")
    ev.add_argument("suite")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--quick", action="store_true")
    ev.set_defaults(func=cmd_eval)

    srv = sub.add_parser("serve", help="start the Gradio app on 127.0.0.1")
    srv.add_argument("--demo", action="store_true", help="serve the demo index (settings.demo_index_dir)")
    srv.add_argument("--ingest-workers", action="store_true", help="the Admin tab's ingest is queued on the ingest "
                     "workers (`assistant workers start`), with their progress")
    srv.set_defaults(func=cmd_serve)

    cs = sub.add_parser("cases", help="list indexed cases, or delete one with everything derived from it")
    cs.add_argument("--delete", metavar="CASE", default="", help="delete this case (audited)")
    cs.add_argument("--user", default="cli", help="recorded in the audit log")
    cs.set_defaults(func=cmd_cases)

    demo = sub.add_parser("demo", help="index the bundled demo cases into the demo index and create the demo users")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=cmd_demo)

    from assistant.cli.admin import register
    from assistant.cli.ask_server import register as register_ask_server
    from assistant.cli.index_server import register as register_index_server
    from assistant.cli.integrity import register as register_integrity
    from assistant.cli.links import register as register_links
    from assistant.cli.models import register as register_models
    from assistant.cli.protect import register as register_protect
    from assistant.cli.translate import register as register_translate
    from assistant.cli.workers import register as register_workers

    register(sub)
    register_models(sub)
    register_links(sub)
    register_index_server(sub)
    register_ask_server(sub)
    register_integrity(sub)
    register_protect(sub)
    register_translate(sub)
    register_workers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    apply_offline_env()
    args = build_parser().parse_args(argv)
    from assistant.config import load_settings

    settings = load_settings()
    level = getattr(logging, str(settings.log_level).upper(), logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    install_egress_guard(model_hosts(settings.llm))  # loopback + the configured model host, nothing else
    own = (WorkerSettings().broker_url, server_port(settings.index_dir), getattr(args, "port", 0))  # a --port we use
    install_kernel_guard(settings, own, getattr(args, "kernel_guard_off", ""))  # native code too: these ports only
    restrict_umask()  # files this process creates (index, users, audit, exports) are the owner's only
    try:
        return int(args.func(args, _app()))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        print(f"internal error: {type(exc).__name__}: {exc} (ASSISTANT_LOG_LEVEL=DEBUG shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
