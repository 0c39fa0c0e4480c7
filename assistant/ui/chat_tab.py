"""The Chat tab (every role): ask within one case, stream the answer, open a citation's passage."""

from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant.types import Answer
from assistant.ui.chat import ENTITY_TYPES, ask, make_filters, open_citation
from assistant.ui.wiring import PRIVATE, Resolver, user_errors

EMPTY_PANEL = '<div class="passage-panel empty">Click a citation to see its passage.</div>'


def build_chat_tab(session_of: Resolver) -> gr.Dropdown:
    """The tab's components and events (inside a gr.Tabs); returns the case dropdown the page load fills."""
    priv = PRIVATE
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
                purpose = gr.Textbox(label="Purpose (why you ask; recorded with the question)", elem_id="purpose")
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
                answered_by = gr.HTML(elem_id="answered-by")
                cites = gr.Radio(label="Citations: click one to open its passage", choices=[],
                                 elem_id="citations")
            with gr.Column(scale=2):
                panel = gr.HTML(EMPTY_PANEL, elem_id="passage-panel")
        answer_state = gr.State(None)

    def on_ask(case: str, q: str, history: list[dict[str, str]] | None, d_from: str, d_to: str, sender: str,
               source: str, entity: str, why: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        s = session_of(request)
        with user_errors():
            filters = make_filters(d_from, d_to, sender, source, entity)
            for upd in ask(s, case, q, history, filters, purpose=why):
                if upd.answer is None:
                    yield upd.history, None, "", gr.Radio(choices=[], value=None), EMPTY_PANEL
                else:
                    yield (upd.history, upd.answer, upd.backend, gr.Radio(choices=upd.choices, value=None),
                           EMPTY_PANEL)

    ask_inputs = [case_dd, question, chatbot, f_from, f_to, f_sender, f_source, f_entity, purpose]
    ask_outputs = [chatbot, answer_state, answered_by, cites, panel]
    ask_btn.click(on_ask, ask_inputs, ask_outputs, **priv)
    question.submit(on_ask, ask_inputs, ask_outputs, **priv)

    def on_cite(answer: Answer | None, choice: str | None, request: gr.Request) -> str:
        s = session_of(request)
        with user_errors():
            return open_citation(s, answer, choice)

    cites.change(on_cite, [answer_state, cites], panel, **priv)

    def on_case_change() -> tuple[Any, ...]:
        return [], None, "", gr.Radio(choices=[], value=None), EMPTY_PANEL

    case_dd.change(on_case_change, None, [chatbot, answer_state, answered_by, cites, panel], **priv)
    return case_dd
