"""The Supervisor tab (supervisor, admin): audit records, reviews, accuracy over time, export."""

from collections.abc import Callable
from typing import Any

import gradio as gr

from assistant.ui.supervisor import (
    AUDIT_HEADERS,
    REVIEW_STATES,
    Staged,
    accuracy_plot,
    audit_rows,
    citation_choices,
    confirm_decision,
    export_file,
    open_cited_passage,
    open_record,
    protect_person,
    stage_decision,
)
from assistant.ui.wiring import PRIVATE, Resolver, user_errors

ALL_MINE = ("(all my cases)", "")


def build_supervisor_tab(session_of: Resolver) -> tuple[gr.Tab, gr.Dropdown]:
    """The tab's components and events (inside a gr.Tabs); returns the tab and its case dropdown (the page load
    shows the one and fills the other)."""
    priv = PRIVATE
    with gr.Tab("Supervisor", id="supervisor", visible=False) as sup_tab:
        with gr.Row():
            s_case = gr.Dropdown(label="Case", choices=[ALL_MINE], value="", elem_id="s-case")
            s_user = gr.Textbox(label="Asked by (username)", elem_id="s-user")
            s_from = gr.Textbox(label="From (YYYY-MM-DD)")
            s_to = gr.Textbox(label="To (YYYY-MM-DD)")
            s_review = gr.Dropdown(label="Review status", choices=list(REVIEW_STATES), value="any")
            s_search = gr.Textbox(label="Search question or answer", elem_id="s-search")
        s_refresh = gr.Button("Refresh records", elem_id="s-refresh")
        table = gr.Dataframe(headers=AUDIT_HEADERS, interactive=False, wrap=True, elem_id="audit-table")
        with gr.Row():
            s_seq = gr.Number(label="Record seq (or click a row)", value=None, precision=0, elem_id="s-seq")
            s_open = gr.Button("Open record", elem_id="s-open")
        with gr.Row():
            with gr.Column(scale=3):
                record_view = gr.HTML(elem_id="record-view")
            with gr.Column(scale=2):
                s_cites = gr.Radio(label="Open a cited passage", choices=[], elem_id="s-cites")
                s_passage = gr.HTML(elem_id="s-passage")
        s_comment = gr.Textbox(label="Review comment", elem_id="s-comment")
        with gr.Row():
            approve_btn = gr.Button("Approve…", variant="primary", elem_id="s-approve")
            flag_btn = gr.Button("Flag…", variant="stop", elem_id="s-flag")
        confirm_msg = gr.Markdown(elem_id="confirm-msg")
        with gr.Row(visible=False) as confirm_row:
            confirm_btn = gr.Button("Confirm decision", variant="primary", elem_id="s-confirm")
            cancel_btn = gr.Button("Cancel", elem_id="s-cancel")
        review_msg = gr.Markdown(elem_id="review-msg")
        staged = gr.State(None)
        with gr.Accordion("Accuracy over time", open=False):
            acc_btn = gr.Button("Show accuracy for the chosen case", elem_id="acc-btn")
            acc_summary = gr.Markdown()
            acc_plot = gr.Plot(label="Approved vs flagged")
        with gr.Accordion("Export", open=False):
            x_fmt = gr.Radio(["json", "csv"], value="json", label="Format")
            x_btn = gr.Button("Export the chosen case", elem_id="x-btn")
            x_file = gr.File(label="Download", interactive=False)
        with gr.Accordion("Protected persons of the chosen case (masked for reviewers)", open=False):
            p_fields = [gr.Textbox(label=label, elem_id=f"p-{key}") for key, label in (
                ("names", "Names (; between values)"), ("aliases", "Aliases"), ("phones", "Phones"),
                ("addresses", "Addresses"), ("dobs", "Dates of birth (DD/MM/YYYY)"), ("handles", "Handles"))]
            p_btn = gr.Button("Protect this person", elem_id="p-protect")
            p_msg = gr.Markdown(elem_id="p-msg")

    def on_refresh(case: str, user: str, d_from: str, d_to: str, state: str, search: str,
                   request: gr.Request) -> Any:
        s = session_of(request)
        with user_errors():
            return audit_rows(s, case, user, d_from, d_to, state, search)

    filters_in = [s_case, s_user, s_from, s_to, s_review, s_search]
    s_refresh.click(on_refresh, filters_in, table, **priv)
    s_search.submit(on_refresh, filters_in, table, **priv)
    sup_tab.select(on_refresh, filters_in, table, **priv)  # records load when the tab opens, newest first

    def on_row(evt: gr.SelectData) -> Any:
        row = getattr(evt, "row_value", None)
        return row[0] if row else gr.skip()

    def on_open(seq: float | None, request: gr.Request) -> tuple[Any, ...]:
        s = session_of(request)
        with user_errors():
            return (open_record(s, seq), gr.Radio(choices=citation_choices(s, seq), value=None), "", None, "",
                    gr.Row(visible=False))

    open_out = [record_view, s_cites, s_passage, staged, confirm_msg, confirm_row]
    table.select(on_row, None, s_seq, **priv).then(on_open, s_seq, open_out, **priv)
    s_open.click(on_open, s_seq, open_out, **priv)
    s_seq.submit(on_open, s_seq, open_out, **priv)

    def on_cite(seq: float | None, n: str | None, request: gr.Request) -> str:
        s = session_of(request)
        with user_errors():
            return open_cited_passage(s, seq, n)

    s_cites.change(on_cite, [s_seq, s_cites], s_passage, **priv)

    def make_stage(decision: str) -> Callable[..., tuple[Any, ...]]:
        def on_stage(seq: float | None, request: gr.Request) -> tuple[Any, ...]:
            s = session_of(request)
            with user_errors():
                pending, msg = stage_decision(s, seq, decision)
                return pending, f"**{msg}**", gr.Row(visible=True), ""

        return on_stage

    stage_out = [staged, confirm_msg, confirm_row, review_msg]
    approve_btn.click(make_stage("approved"), s_seq, stage_out, **priv)
    flag_btn.click(make_stage("flagged"), s_seq, stage_out, **priv)

    def on_confirm(pending: Staged | None, comment: str, seq: float | None, case: str, user: str, d_from: str,
                   d_to: str, state: str, search: str, request: gr.Request) -> tuple[Any, ...]:
        s = session_of(request)
        with user_errors():
            msg = confirm_decision(s, pending, comment)
            return (msg, open_record(s, seq), audit_rows(s, case, user, d_from, d_to, state, search), None, "",
                    gr.Row(visible=False), "")

    confirm_btn.click(on_confirm, [staged, s_comment, s_seq, *filters_in],
                      [review_msg, record_view, table, staged, confirm_msg, confirm_row, s_comment], **priv)
    cancel_btn.click(lambda: (None, "Nothing recorded.", gr.Row(visible=False)), None,
                     [staged, confirm_msg, confirm_row], **priv)

    def on_accuracy(case: str, request: gr.Request) -> tuple[Any, str]:
        s = session_of(request)
        with user_errors():
            fig, summary = accuracy_plot(s, case)
            return fig, summary

    acc_btn.click(on_accuracy, s_case, [acc_plot, acc_summary], **priv)

    def on_export(case: str, fmt: str, request: gr.Request) -> str:
        s = session_of(request)
        with user_errors():
            if not case:
                raise gr.Error("choose a case to export")
            return export_file(s, case, fmt)

    x_btn.click(on_export, [s_case, x_fmt], x_file, **priv)

    def on_protect(case: str, names: str, aliases: str, phones: str, addresses: str, dobs: str, handles: str,
                   request: gr.Request) -> str:
        with user_errors():
            return protect_person(session_of(request), case, names, aliases, phones, addresses, dobs, handles)

    p_btn.click(on_protect, [s_case, *p_fields], p_msg, **priv)
    return sup_tab, s_case
