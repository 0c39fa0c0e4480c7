"""The Admin tab (admin): ingest a folder or uploads into a case, machine-translate its untranslated messages, add
users, assign cases."""

from typing import Any

import gradio as gr

from assistant.access.auth import ROLES
from assistant.ui.admin import (
    USER_HEADERS,
    add_user,
    change_assignment,
    ingest,
    translate,
    translation_status,
    user_rows,
)
from assistant.ui.wiring import PRIVATE, Resolver, user_errors


def build_admin_tab(session_of: Resolver) -> gr.Tab:
    """The tab's components and events (inside a gr.Tabs); returns the tab (the page load shows it to admins)."""
    priv = PRIVATE
    with gr.Tab("Admin", id="admin", visible=False) as admin_tab:
        gr.Markdown("### Ingest files into a case")
        with gr.Row():
            a_case = gr.Textbox(label="Case id to ingest into", elem_id="a-case")
            a_folder = gr.Textbox(label="Folder on the server", elem_id="a-folder",
                                  info="Only inside the folders of the setting ui.ingest_roots")
        a_uploads = gr.File(label="Or upload files (each deleted from the server once ingested)",
                            file_count="multiple", type="filepath")
        a_ingest = gr.Button("Ingest", variant="primary", elem_id="a-ingest")
        a_ingest_out = gr.Markdown()
        gr.Markdown("### Machine-translate a case's untranslated messages")
        with gr.Row():
            t_case = gr.Textbox(label="Case id to translate", elem_id="t-case")
            t_lang = gr.Textbox(label="Only this language (ISO 639-1, optional)", elem_id="t-lang")
            t_force = gr.Checkbox(label="Also languages below the chrF threshold", value=False, elem_id="t-force")
        with gr.Row():
            t_check = gr.Button("Check", elem_id="t-check")
            t_go = gr.Button("Translate", elem_id="t-go")
        t_out = gr.Markdown(elem_id="t-out")
        gr.Markdown("### Users")
        users_table = gr.Dataframe(headers=USER_HEADERS, interactive=False, elem_id="users-table")
        gr.Markdown("### Add a user")
        with gr.Row():
            u_name = gr.Textbox(label="New user's username", elem_id="u-name")
            u_pass = gr.Textbox(label="Password", type="password")
            u_role = gr.Dropdown(list(ROLES), value="reviewer", label="Role")
            u_case = gr.Textbox(label="Assign case (optional)")
            u_add = gr.Button("Add user")
        gr.Markdown("### Assign or unassign a case")
        with gr.Row():
            g_name = gr.Textbox(label="Existing user's username", elem_id="g-name")
            g_case = gr.Textbox(label="Case id to assign or unassign", elem_id="g-case")
            g_action = gr.Radio(["assign", "unassign"], value="assign", label="Action")
            g_btn = gr.Button("Apply")
        admin_msg = gr.Markdown()

    def on_ingest(case: str, folder: str, uploads: list[str] | None, request: gr.Request,
                  progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 (Gradio's injection idiom)
        s = session_of(request)

        def step(done: int, total: int, relpath: str) -> None:
            progress((done, total), desc=f"ingesting {relpath}", unit="files")

        with user_errors():
            return ingest(s, case, folder, uploads, on_progress=step)

    a_ingest.click(on_ingest, [a_case, a_folder, a_uploads], a_ingest_out, **priv)

    def on_check(case: str, lang: str, request: gr.Request) -> str:
        with user_errors():
            return translation_status(session_of(request), case, lang)

    def on_translate(case: str, lang: str, force: bool, request: gr.Request,
                     progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 (Gradio's injection idiom)
        s = session_of(request)

        def step(done: int, total: int) -> None:
            progress((done, total), desc="translating", unit="messages")

        with user_errors():
            return translate(s, case, lang, force, on_progress=step)

    t_check.click(on_check, [t_case, t_lang], t_out, **priv)
    t_go.click(on_translate, [t_case, t_lang, t_force], t_out, **priv)

    def on_users(request: gr.Request) -> Any:
        s = session_of(request)
        with user_errors():
            return user_rows(s) if s.user.is_admin else []

    def on_add(name: str, password: str, role: str, case: str, request: gr.Request) -> tuple[str, Any, str]:
        s = session_of(request)
        with user_errors():
            return add_user(s, name, password, role, case), user_rows(s), ""

    def on_assign(name: str, case: str, action: str, request: gr.Request) -> tuple[str, Any]:
        s = session_of(request)
        with user_errors():
            return change_assignment(s, name, case, action), user_rows(s)

    admin_tab.select(on_users, None, users_table, **priv)
    u_add.click(on_add, [u_name, u_pass, u_role, u_case], [admin_msg, users_table, u_pass], **priv)
    g_btn.click(on_assign, [g_name, g_case, g_action], [admin_msg, users_table], **priv)
    tab: gr.Tab = admin_tab
    return tab
