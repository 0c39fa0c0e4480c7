"""The Gradio app: Chat (all roles), Supervisor (supervisor/admin), Admin (admin), Links (all roles).

A thin layer: every event resolves the logged-in user from `gr.Request.username` to a `Session` on the server and
calls a plain handler in `ui.chat`, `ui.supervisor` or `ui.admin`; each tab is laid out and wired in its own
`*_tab` module. Nothing coming from the browser (a case id, a
record seq, a chunk id) is trusted without the Session's access check. Errors a user can act on become `gr.Error`.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.access.guard import CLIENT, SessionGuard
from assistant.access.logins import LoginSessions, LoginThrottle, TokenMap, make_login_check
from assistant.access.session import SessionApp
from assistant.offline import install_egress_guard, model_hosts
from assistant.ui.admin_tab import build_admin_tab
from assistant.ui.chat import last_case
from assistant.ui.chat_tab import build_chat_tab
from assistant.ui.links_tab import build_links_tab
from assistant.ui.network import NoRemoteFiles, launch_options
from assistant.ui.render import md_text
from assistant.ui.supervisor_tab import ALL_MINE, build_supervisor_tab
from assistant.ui.wiring import PRIVATE, make_session_resolver, user_errors

log = logging.getLogger(__name__)

CSS = """
mark.quote { background: #ffe066; padding: 0 2px; }
.passage-panel pre.passage { white-space: pre-wrap; font-size: 0.9em; }
table.messages td { vertical-align: top; padding: 2px 6px; font-size: 0.9em; }
table.messages tr.cited { background: #fffbe6; }
.unverified, .warn { color: #b00020; }
.verified { color: #2e7d32; }
.smoke-warning { background: #fff3cd; border: 1px solid #e0a800; padding: 6px; margin-top: 4px; }
details.about-answer { font-size: 0.9em; color: #555; }
"""


def make_auth(app: SessionApp, throttle: LoginThrottle | None = None) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's `auth=` coroutine (access.logins): bcrypt and the "login" audit record off the event loop,
    back-off and lock-out per user and per client."""
    s = app.settings.access
    return make_login_check(app.users, app.audit, s, throttle or LoginThrottle(s), CLIENT.get)


def build_ui(app: SessionApp, *, local_user: str | None = None) -> gr.Blocks:
    """The page: who is logged in, then one tab per role, each built by its own module."""
    session_of = make_session_resolver(app, local_user)
    demo = gr.Blocks(title="Investigative assistant", analytics_enabled=False)
    with demo:
        with gr.Row():
            whoami = gr.Markdown(elem_id="whoami")
            gr.Button("Log out", link="/logout", size="sm", scale=0)
        with gr.Tabs():
            case_dd = build_chat_tab(session_of)
            sup_tab, s_case = build_supervisor_tab(session_of)
            admin_tab = build_admin_tab(session_of)
            links_unload = build_links_tab(session_of)

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            s = session_of(request)
            with user_errors():
                cases = s.cases()
                audit_cases = s.audit_cases() if s.user.can_audit else []
            who = f"Logged in as **{md_text(s.user.username)}** ({md_text(s.user.role)})"
            if not cases:
                who += " · no case with material is assigned to you yet: ask an admin"
            return (who, gr.Dropdown(choices=cases, value=last_case(s, cases)),
                    gr.Tab(visible=s.user.can_audit), gr.Tab(visible=s.user.is_admin),
                    gr.Dropdown(choices=[ALL_MINE, *audit_cases], value=""))

        demo.load(on_load, outputs=[whoami, case_dd, sup_tab, admin_tab, s_case], **PRIVATE)
        demo.unload(links_unload)  # the session's chart exports are deleted with it
    return demo


def serve(app: SessionApp, *, prevent_thread_lock: bool = False, local_user: str | None = None) -> gr.Blocks:
    """Launch on settings.ui.host/port (loopback unless remote serving is configured with TLS). Never shared; login
    backed by the UserStore unless settings.ui.auth is off; no server-side URL fetching; no raw exception text.
    Refuses to start while a published demo password works outside the demo index, or the audit log fails."""
    from assistant.access.demo import check_audit_at_start, check_serve_allowed

    ui = app.settings.ui
    bind = launch_options(ui)  # refuses a non-loopback address without allow_remote + TLS, before anything starts
    check_serve_allowed(app)  # outside the demo index, no account may keep a published demo password
    check_audit_at_start(app)  # a log that fails verification (edited, truncated, deleted) stops the start
    install_egress_guard(model_hosts(app.settings.llm))
    demo = build_ui(app, local_user=local_user)
    demo.queue(default_concurrency_limit=2)
    sessions = LoginSessions(app.users, app.settings.access)  # timeouts, revocation; page sessions tied to logins
    if not ui.auth:
        log.warning("ui_auth_disabled local_user=%s", local_user or "-")
    log.info("ui_serve host=%s port=%d auth=%s", ui.host, ui.port, ui.auth)
    demo.launch(**launch_kwargs(app, sessions, bind))
    demo.server_app.tokens = TokenMap(sessions)  # type: ignore[assignment]  # Gradio's login tokens: any mapping
    if not prevent_thread_lock:
        demo.block_thread()
    return demo


def launch_kwargs(app: SessionApp, sessions: LoginSessions, bind: dict[str, Any]) -> dict[str, Any]:
    """`demo.launch()` keywords: `bind` (ui.network.launch_options), login, no error text, the middlewares, and
    uploads capped at ingest.max_file_mb (Gradio refuses a larger upload before it is stored)."""
    ui = app.settings.ui
    return dict(
        **bind,
        server_port=ui.port,
        share=False,
        auth=make_auth(app) if ui.auth else None,  # Gradio awaits a coroutine function
        auth_message="Investigative assistant: log in with your reviewer, supervisor or admin account.",
        footer_links=["settings"],
        show_error=False,  # an unexpected error shows "internal error, reference <id>" (ui.wiring), never its text
        app_kwargs={"middleware": [Middleware(NoRemoteFiles), Middleware(SessionGuard, sessions=sessions)]},
        max_file_size=app.settings.ingest.max_file_mb * 1024 * 1024,
        inbrowser=False,
        prevent_thread_lock=True,
        css=CSS,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        ssr_mode=False,
    )
