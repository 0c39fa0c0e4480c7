"""The "Links" tab: look an identifier up across cases (as the logged-in user may see it), the link chart of one
case or of every case the user may open with its downloads (GraphML, CSV, PNG: `ui.links.exports`), a case's
timeline and one person's timeline (`ui.links.person`). Handlers are plain functions of a Session.

Cases the user may not open appear only as "a match exists, ask <contact>". The chart and the timeline are shown
as the role may see them (`links.masking.LinkView`: protected persons masked for roles without clearance; an `about`
naming one is refused and audited); any role may look a value up (the answer holds the value the user typed, case
references, files and locators, never text), except a protected person's identifier (refused and audited), and the
files and locators shown have protected identifiers masked."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.access.session import Session
from assistant.errors import AssistantError
from assistant.ui.wiring import PRIVATE, Resolver, user_errors

ALL_MY_CASES = "(all my cases)"
TIMELINE_HEADERS = ["timestamp", "text", "source", "locator", "also dated"]


def app_of(session: Session) -> Any:
    app = session.app
    if not hasattr(app, "links"):
        raise AssistantError("the cross-case identifier index is not available in this deployment")
    return app


def lookup_html(session: Session, value: str, reason: str = "") -> str:
    value = (value or "").strip()
    if not value:
        return "<p>Type a phone number, IMEI, registration, e-mail, handle, sort code + account or a name.</p>"
    from assistant.links.masking import LinkView

    app = app_of(session)
    view = LinkView.for_lookup(session.user.role, app.settings.pii, app.settings.index_dir, app.list_cases())
    if view.probes(value):  # a guessed identifier of a protected person would tell which files hold it
        raise session.deny("the look-up names a protected person: look up what is shown to you", "filter")
    result = app.links.lookup(value, user=session.user.username, reason=(reason or "").strip())
    head = (f"<p><b>{html.escape(result.query)}</b> → <code>{html.escape(result.normalized)}</code> "
            f"({html.escape(result.type)})</p>")
    if not result.cases:
        return head + f"<p id='links-none'>{html.escape(result.negative_assurance())}.</p>"
    rows = []
    for hit in result.cases:
        if hit.access == "existence":
            rows.append(f"<li class='links-existence'><b>case {html.escape(hit.case)}</b>: {hit.mentions} "
                        f"mention(s). Not assigned to you: ask {html.escape(', '.join(hit.contacts))}.</li>")
            continue
        tag = " <i>(break-glass, audited)</i>" if hit.access == "break_glass" else ""
        items = "".join(f"<li>{html.escape(view.text(m.source))} — {html.escape(view.text(m.locator))} "
                        f"<small>[{html.escape(m.chunk_id)}]</small></li>" for m in hit.sources)
        rows.append(f"<li class='links-full'><b>case {html.escape(hit.case)}</b>: {hit.mentions} mention(s){tag}"
                    f"<ul>{items}</ul></li>")
    return head + f"<ul id='links-cases'>{''.join(rows)}</ul>"


def link_view(session: Session, cases: list[str], what: str, about: str = "", **extra: str) -> Any:
    """The role's view of `cases` (a LinkView), each use recorded as an evidence read; an `about` by which a role
    without clearance would probe a protected person is refused and recorded."""
    from assistant.links.masking import LinkView

    app = session.app
    view = LinkView.for_role(session.user.role, app.settings.pii, app.settings.index_dir, cases)
    if about and view.probes(about):
        raise session.deny(f"the {what} filter names a protected person: filter on what is shown to you", "filter",
                           cases[0] if len(cases) == 1 else "")
    for case in cases:
        app.audit.append("view", session.user.username, case, {"what": what, "clear": view.clear, **extra})
    return view


def chart_png(session: Session, case: str, folder: Path | None = None) -> tuple[str, str]:
    """(path of a PNG, summary) for one case or, with ALL_MY_CASES, every case the user may open; written in `folder`
    (the tab passes the session's private folder, `ui.links.exports.SessionFolders`), else in a new temporary one."""
    from assistant.links.graph import build_graph
    from assistant.links.render import render_png

    cases = session.cases() if case == ALL_MY_CASES else [session.require_case(case)]
    if not cases:
        raise AssistantError("no case to chart")
    view = link_view(session, cases, "link chart")
    graph = view.graph(build_graph(app_of(session), cases))
    out = (folder or Path(tempfile.mkdtemp(prefix="links-chart-"))) / "chart.png"
    render_png(graph, out, title=f"Link chart: {', '.join(cases)}")
    return str(out), (f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} links across "
                      f"{len(cases)} case(s); download it below as GraphML, CSV or PNG (masked as shown)")


def timeline_rows(session: Session, case: str, about: str = "") -> list[list[str]]:
    from assistant.links.timeline import case_timeline

    case_id, about = session.require_case(case), (about or "").strip()
    view = link_view(session, [case_id], "timeline", about)
    return [[e.timestamp, e.text, e.citation.source, e.citation.locator, ", ".join(e.also)]
            for e in view.events(case_timeline(app_of(session), case_id, about=about))]


def build_links_tab(session_of: Resolver) -> Callable[[gr.Request], None]:
    """The tab's components and events; call inside the app's `gr.Tabs()`. Returns the handler the page's unload
    event must call (it deletes the session's export folder)."""
    from assistant.ui.links.exports import SessionFolders, export_chart
    from assistant.ui.links.person import PERSON_HEADERS, PERSON_WIDTHS, person_timeline

    folders = SessionFolders()
    with gr.Tab("Links", id="links") as tab:
        gr.Markdown("Find an identifier across every case. Cases you are not assigned to show only that a match "
                    "exists and who to ask.")
        with gr.Row():
            value = gr.Textbox(label="Identifier or name", elem_id="links-value", scale=3)
            reason = gr.Textbox(label="Break-glass reason (supervisors; audited)", elem_id="links-reason", scale=2)
            go = gr.Button("Look up", variant="primary", elem_id="links-go", scale=0)
        result = gr.HTML(elem_id="links-result")
        with gr.Row():
            case = gr.Dropdown(label="Case", choices=[], elem_id="links-case", allow_custom_value=True)
            about = gr.Textbox(label="Timeline about (optional)", elem_id="links-about")
            chart_btn = gr.Button("Draw link chart", elem_id="links-chart-btn")
            tl_btn = gr.Button("Show timeline", elem_id="links-timeline-btn")
        chart_note = gr.Markdown(elem_id="links-chart-note")
        chart = gr.Image(label="Link chart", type="filepath", elem_id="links-chart", interactive=False)
        with gr.Row():
            downloads = {fmt: gr.Button(f"Download {label}", size="sm", elem_id=f"links-export-{fmt}")
                         for fmt, label in (("graphml", "GraphML"), ("csv", "CSV"), ("png", "PNG"))}
        exported = gr.File(label="Chart export (as your role sees it; deleted when you export again or leave)",
                           file_count="multiple", interactive=False, elem_id="links-export")
        timeline = gr.Dataframe(headers=TIMELINE_HEADERS, interactive=False, wrap=True, elem_id="links-timeline")
        gr.Markdown("**Person timeline**: every dated event and mention of one person in the chosen case (the "
                    "'Timeline about' box, if filled, keeps the episodes about it).")
        with gr.Row():
            person = gr.Textbox(label="Person", elem_id="links-person", scale=2)
            period = gr.Textbox(label="Period (optional): March 2023, 2023 or 22 March 2023", elem_id="links-period",
                                scale=2)
            person_btn = gr.Button("Show person timeline", elem_id="links-person-btn", scale=0)
        person_note = gr.Markdown(elem_id="links-person-note")
        person_rows = gr.Dataframe(headers=PERSON_HEADERS, interactive=False, wrap=True, column_widths=PERSON_WIDTHS,
                                   elem_id="links-person-timeline")

    def on_select(request: gr.Request) -> Any:
        s = session_of(request)
        with user_errors():
            cases = s.cases()
            return gr.Dropdown(choices=[ALL_MY_CASES, *cases], value=cases[0] if len(cases) == 1 else None)

    def on_lookup(v: str, r: str, request: gr.Request) -> str:
        s = session_of(request)
        with user_errors():
            return lookup_html(s, v, r)

    def key_of(request: gr.Request, s: Session) -> str:
        return getattr(request, "session_hash", None) or s.user.username

    def on_chart(c: str, request: gr.Request) -> tuple[str, str]:
        s = session_of(request)
        with user_errors():
            return chart_png(s, c or "", folders.fresh(f"{key_of(request, s)}/chart"))

    def on_timeline(c: str, a: str, request: gr.Request) -> list[list[str]]:
        s = session_of(request)
        with user_errors():
            return timeline_rows(s, c or "", a)

    def on_export(fmt: str) -> Callable[[str, gr.Request], list[str]]:
        def export(c: str, request: gr.Request) -> list[str]:
            s = session_of(request)
            with user_errors():
                return export_chart(s, c or "", fmt, folders.fresh(key_of(request, s)))
        return export

    def on_person(c: str, p: str, when: str, a: str, request: gr.Request) -> tuple[str, list[list[str]]]:
        s = session_of(request)
        with user_errors():
            return person_timeline(s, c or "", p, when, a)

    def on_unload(request: gr.Request) -> None:
        key = getattr(request, "session_hash", None) or ""
        folders.drop(key)
        folders.drop(f"{key}/chart")

    tab.select(on_select, None, case, **PRIVATE)
    for fmt, button in downloads.items():
        button.click(on_export(fmt), case, exported, **PRIVATE)
    person_btn.click(on_person, [case, person, period, about], [person_note, person_rows], **PRIVATE)
    person.submit(on_person, [case, person, period, about], [person_note, person_rows], **PRIVATE)
    go.click(on_lookup, [value, reason], result, **PRIVATE)
    value.submit(on_lookup, [value, reason], result, **PRIVATE)
    chart_btn.click(on_chart, case, [chart, chart_note], **PRIVATE)
    tl_btn.click(on_timeline, [case, about], timeline, **PRIVATE)
    return on_unload
