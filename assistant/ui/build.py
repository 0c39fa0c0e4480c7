"""The Gradio app: Chat (all roles), Supervisor (supervisor/admin), Admin (admin).

A thin layer: every event resolves the logged-in user from `gr.Request.username` to a `Session` on the server and
calls a plain handler in `ui_chat`, `ui_supervisor` or `ui_admin`. Nothing coming from the browser (a case id, a
record seq, a chunk id) is trusted without the Session's access check. Errors a user can act on become `gr.Error`.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr

from assistant.access.auth import ROLES
from assistant.access.session import Session, SessionApp
from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.ui.admin import USER_HEADERS, add_user, change_assignment, ingest, user_rows
from assistant.ui.chat import ENTITY_TYPES, ask, make_filters, open_citation
from assistant.ui.supervisor import (
    AUDIT_HEADERS,
    REVIEW_STATES,
    accuracy_plot,
    audit_rows,
    export_file,
    open_record,
    review,
)

log = logging.getLogger(__name__)

CSS = """
mark.quote { background: #ffe066; padding: 0 2px; }
.passage-panel pre.passage { white-space: pre-wrap; font-size: 0.9em; }
table.messages td { vertical-align: top; padding: 2px 6px; font-size: 0.9em; }
table.messages tr.cited { background: #fffbe6; }
.unverified, .warn { color: #b00020; }
.verified { color: #2e7d32; }
"""
ALL_MINE = ("(all my cases)", "")
EMPTY_PANEL = '<div class="passage-panel empty">Click a citation to see its passage.</div>'


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn errors a user can act on into a visible gr.Error (never a stack trace)."""
    try:
        yield
    except AssistantError as exc:
        raise gr.Error(str(exc)) from exc


def make_session_resolver(app: SessionApp, local_user: str | None = None) -> Callable[[gr.Request | None], Session]:
    """Request -> Session. With login enabled the user is `request.username` (set by Gradio's auth);
    with login disabled every request acts as `local_user`, and without one everything is refused."""

    def resolve(request: gr.Request | None) -> Session:
        username = getattr(request, "username", None) if app.settings.ui.auth else local_user
        try:
            return Session.for_username(app, username)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    return resolve


def make_auth(app: SessionApp) -> Callable[[str, str], bool]:
    """Gradio's `auth=` callable backed by the UserStore; every attempt is an audit "login" record."""

    def check(username: str, password: str) -> bool:
        user = app.users.authenticate(username, password)
        known = user or app.users.get(username)  # never record a typed name that is not a user (could be a password)
        app.audit.append("login", known.username if known else "<unknown>", "", {"ok": user is not None})
        return user is not None

    return check


def build_ui(app: SessionApp, *, local_user: str | None = None) -> gr.Blocks:
    session_of = make_session_resolver(app, local_user)
    priv: Any = {"api_visibility": "private"}

    demo = gr.Blocks(title="Investigative assistant", analytics_enabled=False)
    with demo:
        with gr.Row():
            whoami = gr.Markdown(elem_id="whoami")
            gr.Button("Log out", link="/logout", size="sm", scale=0)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        case_dd = gr.Dropdown(label="Case", choices=[], interactive=True, elem_id="case-select",
                                              allow_custom_value=True)  # the Session is the check, not the list
                        with gr.Accordion("Filters", open=False), gr.Row():
                            f_from = gr.Textbox(label="Date from (YYYY-MM-DD)", elem_id="f-from")
                            f_to = gr.Textbox(label="Date to (YYYY-MM-DD)", elem_id="f-to")
                            f_sender = gr.Textbox(label="Sender", elem_id="f-sender")
                            f_source = gr.Textbox(label="Source file", elem_id="f-source")
                            f_entity = gr.Dropdown(label="Entity type", choices=list(ENTITY_TYPES), value="")
                        chatbot = gr.Chatbot(label="Answers", elem_id="chat", height=420)
                        question = gr.Textbox(label="Question", lines=2, elem_id="question",
                                              placeholder="Ask about this case; answers cite the case material")
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
                        answered_by = gr.HTML(elem_id="answered-by")
                        cites = gr.Radio(label="Citations: click one to open its passage", choices=[],
                                         elem_id="citations")
                    with gr.Column(scale=2):
                        panel = gr.HTML(EMPTY_PANEL, elem_id="passage-panel")
                answer_state = gr.State(None)
            with gr.Tab("Supervisor", id="supervisor", visible=False) as sup_tab:
                with gr.Row():
                    s_case = gr.Dropdown(label="Case", choices=[ALL_MINE], value="", elem_id="s-case")
                    s_user = gr.Textbox(label="Asked by (username)", elem_id="s-user")
                    s_from = gr.Textbox(label="From (YYYY-MM-DD)")
                    s_to = gr.Textbox(label="To (YYYY-MM-DD)")
                    s_review = gr.Dropdown(label="Review status", choices=list(REVIEW_STATES), value="any")
                s_refresh = gr.Button("Refresh records", elem_id="s-refresh")
                table = gr.Dataframe(headers=AUDIT_HEADERS, interactive=False, wrap=True, elem_id="audit-table")
                with gr.Row():
                    s_seq = gr.Number(label="Record seq", precision=0, elem_id="s-seq")
                    s_open = gr.Button("Open record", elem_id="s-open")
                record_view = gr.HTML(elem_id="record-view")
                s_comment = gr.Textbox(label="Review comment", elem_id="s-comment")
                with gr.Row():
                    approve_btn = gr.Button("Approve", variant="primary", elem_id="s-approve")
                    flag_btn = gr.Button("Flag", variant="stop", elem_id="s-flag")
                review_msg = gr.Markdown(elem_id="review-msg")
                with gr.Accordion("Accuracy over time", open=False):
                    acc_btn = gr.Button("Show accuracy for the chosen case", elem_id="acc-btn")
                    acc_summary = gr.Markdown()
                    acc_plot = gr.Plot(label="Approved vs flagged")
                with gr.Accordion("Export", open=False):
                    x_fmt = gr.Radio(["json", "csv"], value="json", label="Format")
                    x_btn = gr.Button("Export the chosen case", elem_id="x-btn")
                    x_file = gr.File(label="Download", interactive=False)
            with gr.Tab("Admin", id="admin", visible=False) as admin_tab:
                with gr.Row():
                    a_case = gr.Textbox(label="Case id", elem_id="a-case")
                    a_folder = gr.Textbox(label="Folder on the server", elem_id="a-folder")
                a_uploads = gr.File(label="Or upload files", file_count="multiple", type="filepath")
                a_ingest = gr.Button("Ingest", variant="primary", elem_id="a-ingest")
                a_ingest_out = gr.Markdown()
                users_table = gr.Dataframe(headers=USER_HEADERS, interactive=False, elem_id="users-table")
                with gr.Row():
                    u_name = gr.Textbox(label="Username")
                    u_pass = gr.Textbox(label="Password", type="password")
                    u_role = gr.Dropdown(list(ROLES), value="reviewer", label="Role")
                    u_case = gr.Textbox(label="Assign case (optional)")
                    u_add = gr.Button("Add user")
                with gr.Row():
                    g_name = gr.Textbox(label="Username")
                    g_case = gr.Textbox(label="Case id")
                    g_action = gr.Radio(["assign", "unassign"], value="assign", label="Action")
                    g_btn = gr.Button("Apply")
                admin_msg = gr.Markdown()

        # --- load: who is this, which cases, which tabs ----------------------------------------------------------
        def on_load(request: gr.Request) -> tuple[Any, ...]:
            s = session_of(request)
            with _user_errors():
                cases = s.cases()
                audit_cases = s.audit_cases() if s.user.can_audit else []
            who = f"Logged in as **{s.user.username}** ({s.user.role})"
            return (who, gr.Dropdown(choices=cases, value=cases[0] if len(cases) == 1 else None),
                    gr.Tab(visible=s.user.can_audit), gr.Tab(visible=s.user.is_admin),
                    gr.Dropdown(choices=[ALL_MINE, *audit_cases], value=""))

        demo.load(on_load, outputs=[whoami, case_dd, sup_tab, admin_tab, s_case], **priv)

        # --- chat -------------------------------------------------------------------------------------------------
        def on_ask(case: str, q: str, history: list[dict[str, str]] | None, d_from: str, d_to: str, sender: str,
                   source: str, entity: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
            s = session_of(request)
            with _user_errors():
                filters = make_filters(d_from, d_to, sender, source, entity)
                for upd in ask(s, case, q, history, filters):
                    if upd.answer is None:
                        yield upd.history, None, "", gr.Radio(choices=[], value=None), EMPTY_PANEL
                    else:
                        yield (upd.history, upd.answer, upd.backend, gr.Radio(choices=upd.choices, value=None),
                               EMPTY_PANEL)

        ask_inputs = [case_dd, question, chatbot, f_from, f_to, f_sender, f_source, f_entity]
        ask_outputs = [chatbot, answer_state, answered_by, cites, panel]
        ask_btn.click(on_ask, ask_inputs, ask_outputs, **priv)
        question.submit(on_ask, ask_inputs, ask_outputs, **priv)

        def on_cite(answer: Answer | None, choice: str | None, request: gr.Request) -> str:
            s = session_of(request)
            with _user_errors():
                return open_citation(s, answer, choice)

        cites.change(on_cite, [answer_state, cites], panel, **priv)

        def on_case_change() -> tuple[Any, ...]:
            return [], None, "", gr.Radio(choices=[], value=None), EMPTY_PANEL

        case_dd.change(on_case_change, None, [chatbot, answer_state, answered_by, cites, panel], **priv)

        # --- supervisor -------------------------------------------------------------------------------------------
        def on_refresh(case: str, user: str, d_from: str, d_to: str, state: str, request: gr.Request) -> Any:
            s = session_of(request)
            with _user_errors():
                return audit_rows(s, case, user, d_from, d_to, state)

        filters_in = [s_case, s_user, s_from, s_to, s_review]
        s_refresh.click(on_refresh, filters_in, table, **priv)

        def on_row(evt: gr.SelectData) -> Any:
            row = getattr(evt, "row_value", None)
            return row[0] if row else gr.skip()

        table.select(on_row, None, s_seq, **priv)

        def on_open(seq: float | None, request: gr.Request) -> str:
            s = session_of(request)
            with _user_errors():
                return open_record(s, seq)

        s_open.click(on_open, s_seq, record_view, **priv)
        s_seq.submit(on_open, s_seq, record_view, **priv)

        def make_review(decision: str) -> Callable[..., tuple[str, str, Any]]:
            def on_review(seq: float | None, comment: str, case: str, user: str, d_from: str, d_to: str,
                          state: str, request: gr.Request) -> tuple[str, str, Any]:
                s = session_of(request)
                with _user_errors():
                    msg = review(s, seq, decision, comment)
                    return msg, open_record(s, seq), audit_rows(s, case, user, d_from, d_to, state)

            return on_review

        review_in = [s_seq, s_comment, *filters_in]
        approve_btn.click(make_review("approved"), review_in, [review_msg, record_view, table], **priv)
        flag_btn.click(make_review("flagged"), review_in, [review_msg, record_view, table], **priv)

        def on_accuracy(case: str, request: gr.Request) -> tuple[Any, str]:
            s = session_of(request)
            with _user_errors():
                fig, summary = accuracy_plot(s, case)
                return fig, summary

        acc_btn.click(on_accuracy, s_case, [acc_plot, acc_summary], **priv)

        def on_export(case: str, fmt: str, request: gr.Request) -> str:
            s = session_of(request)
            with _user_errors():
                if not case:
                    raise gr.Error("choose a case to export")
                return export_file(s, case, fmt)

        x_btn.click(on_export, [s_case, x_fmt], x_file, **priv)

        # --- admin ------------------------------------------------------------------------------------------------
        def on_ingest(case: str, folder: str, uploads: list[str] | None, request: gr.Request,
                      progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 (Gradio's injection idiom)
            s = session_of(request)

            def step(done: int, total: int, relpath: str) -> None:
                progress((done, total), desc=f"ingesting {relpath}", unit="files")

            with _user_errors():
                return ingest(s, case, folder, uploads, on_progress=step)

        a_ingest.click(on_ingest, [a_case, a_folder, a_uploads], a_ingest_out, **priv)

        def on_users(request: gr.Request) -> Any:
            s = session_of(request)
            with _user_errors():
                return user_rows(s) if s.user.is_admin else []

        def on_add(name: str, password: str, role: str, case: str, request: gr.Request) -> tuple[str, Any, str]:
            s = session_of(request)
            with _user_errors():
                return add_user(s, name, password, role, case), user_rows(s), ""

        def on_assign(name: str, case: str, action: str, request: gr.Request) -> tuple[str, Any]:
            s = session_of(request)
            with _user_errors():
                return change_assignment(s, name, case, action), user_rows(s)

        admin_tab.select(on_users, None, users_table, **priv)
        u_add.click(on_add, [u_name, u_pass, u_role, u_case], [admin_msg, users_table, u_pass], **priv)
        g_btn.click(on_assign, [g_name, g_case, g_action], [admin_msg, users_table], **priv)
    return demo


def serve(app: SessionApp, *, prevent_thread_lock: bool = False, local_user: str | None = None) -> gr.Blocks:
    """Launch on settings.ui.host/port. Never shared; login backed by the UserStore unless settings.ui.auth is off."""
    ui = app.settings.ui
    demo = build_ui(app, local_user=local_user)
    demo.queue(default_concurrency_limit=2)
    if not ui.auth:
        log.warning("ui_auth_disabled local_user=%s", local_user or "-")
    log.info("ui_serve host=%s port=%d auth=%s", ui.host, ui.port, ui.auth)
    demo.launch(
        server_name=ui.host,
        server_port=ui.port,
        share=False,
        auth=make_auth(app) if ui.auth else None,
        auth_message="Investigative assistant: log in with your reviewer, supervisor or admin account.",
        footer_links=["settings"],
        show_error=True,
        inbrowser=False,
        prevent_thread_lock=prevent_thread_lock,
        css=CSS,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        ssr_mode=False,
    )
    return demo
