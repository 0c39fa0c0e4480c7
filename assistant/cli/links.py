"""`assistant links ...` and `assistant timeline ...`: registered from assistant/cli/main.py by `register(sub)`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.links.indexer import ChunkView
    from assistant.links.masking import LinkView


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ln = sub.add_parser("links", help="find an identifier (phone, IMEI, registration, e-mail, handle, account, "
                                      "name) across every case; rebuild the index; export a link chart")
    ln.add_argument("value", nargs="*", help="the identifier, in any written form")
    ln.add_argument("--json", action="store_true")
    ln.add_argument("--user", default=None, help="answer as this user: other cases' sources are withheld; the "
                    "chart is masked for the user's role (default: the account named like the OS user, else "
                    "pii.cli_role)")
    ln.add_argument("--break-glass", metavar="REASON", default="",
                    help="(supervisors) open other cases' sources too; the reason is audited")
    ln.add_argument("--rebuild", action="store_true", help="rebuild the identifier index from every stored case")
    ln.add_argument("--no-progress", action="store_true")
    ln.add_argument("--graph", action="store_true", help="export the link chart of --case as GraphML and CSV")
    ln.add_argument("--case", action="append", default=[], help="with --graph: the case(s) charted")
    ln.add_argument("--out", type=Path, default=Path("links-export"), help="with --graph: output folder")
    ln.add_argument("--png", action="store_true", help="with --graph: also draw links.png")
    ln.set_defaults(func=run_links)

    tl = sub.add_parser("timeline", help="dated events of one case (messages, calls, statements), in time order")
    tl.add_argument("--case", required=True)
    tl.add_argument("--about", default="", help="only events mentioning this (a name or identifier); with --person: "
                                                "only the episodes about it (\"missing\")")
    tl.add_argument("--person", default="", help="one person's timeline: their messages and the dated sentences "
                                                 "naming them, undated mentions listed apart, gaps stated")
    tl.add_argument("--json", action="store_true")
    tl.add_argument("--user", default=None, help="refuse unless this user is assigned to the case; events are masked "
                    "for the user's role (default: the account named like the OS user, else pii.cli_role)")
    tl.set_defaults(func=run_timeline)


def _denied(app: App, user: str, case: str, action: str) -> AssistantError:
    """A refusal for a named user, recorded as a "denied" audit record (as the OS user's claim)."""
    from assistant.access.accounts import cli_identity

    message = f"user {user!r} is not assigned to case {case!r}"
    app.audit.append("denied", cli_identity(user), case, {"action": action, "reason": message})
    return AssistantError(message)


def cli_role(app: App, user: str | None) -> str:
    """The claimed `--user`'s role, else that of the account named like the OS user, else `pii.cli_role`."""
    from assistant.access.accounts import os_user

    account = app.users.get(user or os_user())
    if user and account is None:
        raise AssistantError(f"unknown user {user!r}")
    return account.role if account is not None else app.settings.pii.cli_role


def link_view(app: App, user: str | None, cases: list[str], what: str, about: str = "") -> LinkView:
    """The view of `cases` for the CLI's role: the claimed `--user`'s, else the account named like the OS user, else
    `pii.cli_role`; each use recorded as an evidence read, an `about` probing a protected person refused."""
    from assistant.access.accounts import cli_identity
    from assistant.links.masking import LinkView

    role = cli_role(app, user)
    view = LinkView.for_role(role, app.settings.pii, app.settings.index_dir, cases)
    if about and view.probes(about):
        message = f"the {what} filter names a protected person: filter on what is shown to role {role!r}"
        app.audit.append("denied", cli_identity(user), cases[0], {"action": "filter", "reason": message})
        raise AssistantError(message)
    for case in cases:
        app.audit.append("view", cli_identity(user), case, {"what": what, "clear": view.clear, "via": "cli"})
    return view


def stored_views(app: App, case: str) -> Iterator[ChunkView]:
    from assistant.links.indexer import view_of_stored

    for chunk in app.store.iter_chunks(case):  # streamed in pages: a rebuild visits every case once, so it neither
        yield view_of_stored(chunk.chunk_id, chunk.text, chunk.meta)  # builds BM25 nor fills the catalog cache


def run_links(args: argparse.Namespace, app: App) -> int:
    if args.rebuild:
        from assistant.links.indexer import rebuild

        cases, rows = rebuild(app.link_store, app.list_cases(), lambda c: stored_views(app, c),
                              app.settings.links.default_region, progress=not args.no_progress)
        print(f"links index rebuilt: {cases} cases, {rows} mentions")
        return 0
    if args.graph:
        return _run_graph(args, app)
    value = " ".join(args.value).strip()
    if not value:
        raise AssistantError("give a value to look up: assistant links 07700900418 [--json]")
    from assistant.access.accounts import cli_identity
    from assistant.links.masking import LinkView

    view = LinkView.for_lookup(cli_role(app, args.user), app.settings.pii, app.settings.index_dir, app.list_cases())
    if view.probes(value):
        message = "the look-up names a protected person: look up what is shown to your role"
        app.audit.append("denied", cli_identity(args.user), "", {"action": "filter", "reason": message})
        raise AssistantError(message)
    result = app.links.lookup(value, user=args.user, reason=args.break_glass, actor=cli_identity(args.user))
    if args.json:
        shown = result.to_json()
        for hit in shown["cases"]:
            hit["sources"] = [{**m, "source": view.text(m["source"]), "locator": view.text(m["locator"])}
                              for m in hit["sources"]]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    print(f"{result.query} -> {result.normalized} ({result.type})")
    if not result.cases:
        print(result.negative_assurance())
    for hit in result.cases:
        if hit.access == "existence":
            print(f"  case {hit.case}: {hit.mentions} mention(s); not assigned to you: ask {', '.join(hit.contacts)}")
            continue
        print(f"  case {hit.case}: {hit.mentions} mention(s){' (break-glass, audited)' * (hit.access != 'full')}")
        for m in hit.sources:
            print(f"    {view.text(m.source)} — {view.text(m.locator)} [{m.chunk_id}]")
    return 0


def _run_graph(args: argparse.Namespace, app: App) -> int:
    from assistant.links.graph import build_graph, export_graph

    if not args.case:
        raise AssistantError("--graph needs --case CASE (repeatable)")
    for case in args.case:
        if args.user and not app.users.can_access(args.user, case):
            raise _denied(app, args.user, case, "link chart")
    graph = link_view(app, args.user, args.case, "link chart").graph(build_graph(app, args.case))
    paths = export_graph(graph, args.out)
    if args.png:
        from assistant.links.render import render_png

        paths.append(render_png(graph, args.out / "links.png", title=f"Link chart: {', '.join(args.case)}"))
    print(f"link chart: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges -> "
          + ", ".join(str(p) for p in paths))
    return 0


def run_timeline(args: argparse.Namespace, app: App) -> int:
    from assistant.links.timeline import case_timeline

    if args.user and not app.users.can_access(args.user, args.case):
        raise _denied(app, args.user, args.case, "timeline")
    if not app.store.has_case(args.case):
        raise AssistantError(f"no case {args.case!r} is indexed (assistant cases lists them)")
    view = link_view(app, args.user, [args.case], "timeline", f"{args.person} {args.about}".strip())
    if args.person:
        from assistant.cli.person_timeline import run_person_timeline

        return run_person_timeline(args, app, view)
    events = view.events(case_timeline(app, args.case, about=args.about))
    if args.json:
        print(json.dumps([e.to_json() for e in events], ensure_ascii=False, indent=2))
        return 0
    for e in events:
        also = f" (also names {', '.join(e.also)})" if e.also else ""
        print(f"{e.timestamp}{also}  {e.text}  [{e.citation.source} — {e.citation.locator}]")
    return 0
