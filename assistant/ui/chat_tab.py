"""The Chat tab (every role): ask within one case, stream the answer, open a citation's passage; the user's
conversations in the case are listed and restored; filters are checked before anything is searched."""

from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.types import Answer
from assistant.ui.chat import (
    ENTITY_TYPES,
    ask,
    conversation_choices,
    make_filters,
    open_citation,
    open_conversation,
    source_choices,
)
from assistant.ui.render import esc
from assistant.ui.wiring import PRIVATE, Resolver, user_errors

EMPTY_PANEL = '<div class="passage-panel empty">Click a citation to see its passage.</div>'
DATE_HINT = "Pick a day, or type YYYY-MM-DD or DD/MM/YYYY"
# Gradio's DateTime drops typed text it cannot parse ("March 2023", "14/03/2023") before the server sees it, which
# would search with no date at all. The box's text as typed is sent instead, so `make_filters` accepts the UK form
# and refuses anything else with a message. Positions 3 and 4 of `ask_inputs` are the two dates.
RAW_DATES_JS = """(...args) => {
  const typed = (id) => { const box = document.querySelector('#' + id + ' input'); return box ? box.value : null; };
  args[3] = typed('f-from') ?? args[3];
  args[4] = typed('f-to') ?? args[4];
  return args;
}"""


def _warn(message: str) -> str:
    return f'<div class="warn" role="alert">{esc(message)}</div>'


def build_chat_tab(session_of: Resolver) -> gr.Dropdown:
    """The tab's components and events (inside a gr.Tabs); returns the case dropdown the page load fills."""
    priv = PRIVATE
    with gr.Tab("Chat", id="chat"):
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    case_dd = gr.Dropdown(label="Case", choices=[], interactive=True, elem_id="case-select",
                                          allow_custom_value=True)  # the Session is the check, not the list
                    conv_dd = gr.Dropdown(label="Conversation", choices=[], interactive=True, elem_id="conv-select")
                    conv_new = gr.Button("New conversation", size="sm", scale=0, elem_id="conv-new")
                with gr.Accordion("Filters", open=False):
                    with gr.Row():  # calendar pickers bundled with Gradio (nothing fetched)
                        f_from = gr.DateTime(label="Date from", include_time=False, type="string", info=DATE_HINT,
                                             elem_id="f-from", min_width=240)
                        f_to = gr.DateTime(label="Date to", include_time=False, type="string", info=DATE_HINT,
                                           elem_id="f-to", min_width=240)
                    with gr.Row():
                        f_sender = gr.Textbox(label="Sender (messages)", elem_id="f-sender")
                        f_source = gr.Dropdown(label="Source file", choices=[""], value="", elem_id="f-source")
                        f_entity = gr.Dropdown(label="Entity type", choices=list(ENTITY_TYPES), value="")
                    filter_msg = gr.HTML(elem_id="filter-msg")
                chatbot = gr.Chatbot(label="Answers", elem_id="chat", height=420)
                question = gr.Textbox(label="Question", lines=2, elem_id="question",
                                      placeholder="Ask about this case; answers cite the case material")
                purpose = gr.Textbox(label="Purpose (why you ask; recorded with the question)", elem_id="purpose")
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn")
                chat_msg = gr.HTML(elem_id="chat-msg")
                answered_by = gr.HTML(elem_id="answered-by")
                cites = gr.Radio(label="Citations: click one to open its passage", choices=[],
                                 elem_id="citations")
            with gr.Column(scale=2):
                panel = gr.HTML(EMPTY_PANEL, elem_id="passage-panel")
        answer_state = gr.State(None)
        conv_state = gr.State("")

    def on_ask(case: str, q: str, history: list[dict[str, str]] | None, d_from: str | None, d_to: str | None,
               sender: str,
               source: str, entity: str, why: str, conv: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        s = session_of(request)
        skip = gr.skip()
        try:
            filters = make_filters(d_from or "", d_to or "", sender, source, entity)
        except AssistantError as exc:  # the chat stays as it was; the message sits under the filters
            gr.Warning(str(exc))
            yield history or [], skip, skip, skip, skip, _warn(str(exc)), "", conv, skip
            return
        with user_errors():
            for upd in ask(s, case, q, history, filters, conv, purpose=why):
                if upd.error:
                    gr.Warning(upd.error)
                    yield upd.history, skip, skip, skip, skip, "", _warn(upd.error), upd.conversation, skip
                elif upd.answer is None:
                    yield (upd.history, None, "", gr.Radio(choices=[], value=None), EMPTY_PANEL, "", "",
                           upd.conversation, skip)
                else:
                    convs = gr.Dropdown(choices=conversation_choices(s, case), value=upd.conversation)
                    yield (upd.history, upd.answer, upd.backend, gr.Radio(choices=upd.choices, value=None),
                           EMPTY_PANEL, "", "", upd.conversation, convs)

    ask_inputs = [case_dd, question, chatbot, f_from, f_to, f_sender, f_source, f_entity, purpose, conv_state]
    ask_outputs = [chatbot, answer_state, answered_by, cites, panel, filter_msg, chat_msg, conv_state, conv_dd]
    ask_btn.click(on_ask, ask_inputs, ask_outputs, js=RAW_DATES_JS, **priv)
    question.submit(on_ask, ask_inputs, ask_outputs, js=RAW_DATES_JS, **priv)

    def on_cite(answer: Answer | None, choice: str | None, request: gr.Request) -> str:
        s = session_of(request)
        with user_errors():
            return open_citation(s, answer, choice)

    cites.change(on_cite, [answer_state, cites], panel, **priv)

    def cleared() -> tuple[Any, ...]:  # built per event: a component made here would land on the page
        return "", gr.Radio(choices=[], value=None), EMPTY_PANEL, None, "", ""

    def on_case_change(case: str, request: gr.Request) -> tuple[Any, ...]:
        """A case opens on the user's most recent conversation in it, with its sources in the filter list."""
        s = session_of(request)
        with user_errors():
            choices = conversation_choices(s, case)
            latest = choices[0][1] if choices else ""
            sources = source_choices(s, case)
            history = open_conversation(s, case, latest)
        return (history, *cleared(), latest, gr.Dropdown(choices=choices, value=latest or None),
                gr.Dropdown(choices=sources, value=""))

    change_outputs = [chatbot, answered_by, cites, panel, answer_state, filter_msg, chat_msg, conv_state, conv_dd,
                      f_source]
    case_dd.change(on_case_change, [case_dd], change_outputs, **priv)

    def on_conversation(case: str, conv: str | None, request: gr.Request) -> tuple[Any, ...]:
        s = session_of(request)
        with user_errors():
            return open_conversation(s, case, conv), *cleared(), conv or ""

    conv_dd.input(on_conversation, [case_dd, conv_dd],
                  [chatbot, answered_by, cites, panel, answer_state, filter_msg, chat_msg, conv_state], **priv)

    def on_new() -> tuple[Any, ...]:
        return [], *cleared(), "", gr.Dropdown(value=None)

    conv_new.click(on_new, None, [chatbot, answered_by, cites, panel, answer_state, filter_msg, chat_msg, conv_state,
                                  conv_dd], **priv)
    return case_dd
