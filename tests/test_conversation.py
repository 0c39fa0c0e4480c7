"""Follow-ups resolved into standalone questions, shown and audited; conversations stored per user per case (0600)
and restored; error states that leave the chat usable. Handlers through the real Session (FakeApp: canned
answers) and once against the real App over the demo case."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from assistant.access.demo import seed_demo_users
from assistant.access.session import Session
from assistant.config import load_settings
from assistant.conversation.resolver import Turn, people, resolve
from assistant.conversation.store import ConversationStore
from assistant.errors import AssistantError
from assistant.ui import chat as ui_chat
from assistant.ui.render import md_text
from tests.test_citation_spans import ensure_users
from tests.test_session import FakeApp

WHO = Turn("Who is Marek Wolski?", "Who is Marek Wolski?", "Marek WOLSKI, date of birth 11/09/1994 [1].")


@pytest.fixture()
def fake_app(tmp_path: Path) -> FakeApp:
    app = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path))
    seed_demo_users(app)
    return app


@pytest.mark.parametrize(("question", "turns", "expected"), [
    ("What car does he drive?", [WHO], "What car does Marek Wolski drive?"),
    ("Where does his sister live?", [WHO], "Where does Marek Wolski's sister live?"),
    ("Who else called that number?", [Turn("Who used 07700 900418?", "Who used 07700 900418?", "Marek [1].")],
     "Who else called 07700 900418?"),
    ("What was found in the car the same day?",
     [Turn("Who was arrested on 22 March 2023?", "Who was arrested on 22 March 2023?", "Marek WOLSKI [1].")],
     "What was found in the car on 22 March 2023?"),
    ("Who is Kacper?", [WHO], "Who is Kacper?"),  # names its own subject: untouched
    ("What car does he drive?", [], "What car does he drive?"),  # nothing earlier: untouched
])
def test_resolver(question: str, turns: list[Turn], expected: str) -> None:
    assert resolve(question, turns).standalone == expected


def test_resolver_says_when_a_reference_has_nothing_to_point_at() -> None:
    res = resolve("Who called that number?", [WHO])
    assert res.standalone == "Who called that number?" and "number" in res.unresolved
    assert people("Summarise what Marek Wolski did in March 2023") == ["Marek Wolski"]


def test_store_is_private_listed_newest_first_and_refuses_odd_names(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "conversations")
    first = store.append(store.new("reviewer1", "kestrel"), WHO, [{"role": "user", "content": "Who is Marek Wolski?"}])
    second = store.append(store.new("reviewer1", "kestrel"), Turn("Who is Kacper?", "Who is Kacper?"), [])
    assert [c.conv_id for c in store.list("reviewer1", "kestrel")] == [second.conv_id, first.conv_id]
    first = store.append(first, Turn("What car does he drive?", "What car does Marek Wolski drive?"), [])
    assert [c.conv_id for c in store.list("reviewer1", "kestrel")] == [first.conv_id, second.conv_id]
    path = next((tmp_path / "conversations" / "reviewer1" / "kestrel").glob(f"{first.conv_id}.json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.list("reviewer2", "kestrel") == [] and store.list("reviewer1", "heron") == []
    data = json.loads(path.read_text())
    (tmp_path / "conversations" / "reviewer2" / "kestrel").mkdir(parents=True)
    (tmp_path / "conversations" / "reviewer2" / "kestrel" / path.name).write_text(json.dumps(data))
    assert store.list("reviewer2", "kestrel") == []  # a file owned by another user is never shown
    with pytest.raises(AssistantError):
        store.list("../reviewer1", "kestrel")


def _final(updates: list[ui_chat.ChatUpdate]) -> ui_chat.ChatUpdate:
    assert updates[-1].answer is not None
    return updates[-1]


def test_follow_up_is_rewritten_shown_audited_and_survives_a_reload(fake_app: FakeApp) -> None:
    s = Session.for_username(fake_app, "reviewer1")
    first = _final(list(ui_chat.ask(s, "kestrel", "Who is Marek Wolski?", [])))
    assert "Searched for" not in first.history[-1]["content"]
    second = _final(list(ui_chat.ask(s, "kestrel", "What car does he drive?", first.history, None,
                                     first.conversation)))
    assert second.conversation == first.conversation
    assert f"Searched for: {md_text('What car does Marek Wolski drive?')}" in second.history[-1]["content"]
    assert fake_app.calls[-1] == ("ask", "kestrel")
    record = fake_app.audit.records(kind="answer", user="reviewer1")[-1]
    assert record.payload["asked"] == "What car does he drive?"
    assert record.payload["searched_for"] == "What car does Marek Wolski drive?"
    assert record.payload["question"] == "What car does Marek Wolski drive?"
    assert record.payload["conversation"] == first.conversation
    # a reload: a fresh Session lists the conversation for this case and restores the chat as it was shown
    fresh = Session.for_username(fake_app, "reviewer1")
    choices = ui_chat.conversation_choices(fresh, "kestrel")
    assert [v for _, v in choices] == [first.conversation] and "Who is Marek Wolski?" in choices[0][0]
    assert ui_chat.open_conversation(fresh, "kestrel", first.conversation) == second.history
    assert ui_chat.conversation_choices(Session.for_username(fake_app, "supervisor1"), "kestrel") == []
    with pytest.raises(AssistantError):
        ui_chat.conversation_choices(Session.for_username(fake_app, "reviewer2"), "kestrel")


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_question_leaves_the_chat_as_it_was(fake_app: FakeApp, question: str) -> None:
    before = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "answer"}]
    updates = list(ui_chat.ask(Session.for_username(fake_app, "reviewer1"), "kestrel", question, before))
    assert len(updates) == 1 and updates[0].history == before and updates[0].error
    assert ui_chat.PENDING not in json.dumps([u.history for u in updates])
    assert fake_app.audit.records(kind="answer") == []


def test_backend_details_sit_in_the_about_fold(fake_app: FakeApp) -> None:
    final = _final(list(ui_chat.ask(Session.for_username(fake_app, "reviewer1"), "kestrel", "who sold the sims?")))
    assert final.backend.startswith('<details class="about-answer"><summary>About this answer</summary>')
    assert "backend <b>extractive</b>" in final.backend
    assert "extractive" not in final.history[-1]["content"]


def test_source_list_is_the_cases_files(fake_app: FakeApp) -> None:
    s = Session.for_username(fake_app, "reviewer1")
    assert ui_chat.source_choices(s, "kestrel")[0] == ""
    assert "messages/phone.csv" in ui_chat.source_choices(s, "kestrel")
    with pytest.raises(AssistantError):
        ui_chat.source_choices(Session.for_username(fake_app, "reviewer2"), "kestrel")


def test_empty_case_says_it_holds_no_material(demo_app: Any) -> None:
    ensure_users(demo_app)
    admin = Session.for_username(demo_app, "admin")
    updates = list(ui_chat.ask(admin, "otter", "Who is Marek Wolski?", []))
    assert "This case holds no material yet" in updates[-1].history[-1]["content"]
    assert not updates[-1].error
    assert "messages/phone_HE3_messages.csv" in ui_chat.source_choices(admin, "kestrel")


def test_history_sent_back_as_typed_parts_is_stored_as_text(fake_app: FakeApp) -> None:
    s = Session.for_username(fake_app, "reviewer1")
    first = _final(list(ui_chat.ask(s, "kestrel", "Who is Marek Wolski?", [])))
    from_browser = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in first.history]
    second = _final(list(ui_chat.ask(s, "kestrel", "What car does he drive?", from_browser, None,
                                     first.conversation)))
    assert second.history[:2] == first.history
    stored = ui_chat.open_conversation(s, "kestrel", first.conversation)
    assert all(isinstance(m["content"], str) and "'type'" not in m["content"] for m in stored)


def test_eval_scores_a_wrong_rewrite_as_wrong() -> None:
    from evals.suites.conversation import followup_ok

    item = {"turns": [["Who is Marek Wolski?", "Marek WOLSKI [1]."]], "question": "What car does he drive?",
            "must": ["Marek Wolski"], "must_not": ["he"]}
    assert followup_ok(item) == (True, "What car does Marek Wolski drive?")
    assert followup_ok({**item, "must": ["Andrei Popescu"]})[0] is False
    assert followup_ok({**item, "turns": [], "unchanged": True})[0] is True
    assert followup_ok({**item, "unchanged": True})[0] is False


@pytest.mark.parametrize(("question", "route"), [
    ("Timeline of Jane Doe", "timeline"),  # a person's timeline before the links index's chronology
    ("Timeline of contact between Jane Doe and John Smith", "links"),
    ("Is 07700 900123 in any other cases?", "links"),
    ("Could you summarise what Jane Doe did in May 2021?", "digest"),
    ("Who sold the phone, where, and what was in the bag?", "parts"),
    ("What car does Jane Doe drive?", "answer"),
])
def test_route_of_follows_the_apps_order(question: str, route: str) -> None:
    from assistant.conversation.routes import route_of

    assert route_of(question) == route


def test_eval_scores_a_wrong_route_or_person_as_wrong() -> None:
    from evals.suites.conversation import route_ok

    item = {"question": "Give me an overview of Jane Doe", "route": "digest", "person": "Jane Doe"}
    assert route_ok(item) == (True, "digest:Jane Doe")
    assert route_ok({**item, "person": "John Smith"})[0] is False
    assert route_ok({**item, "route": "timeline"})[0] is False
    assert route_ok({"question": "Where and when was Jane found?", "route": "parts", "parts": 3})[0] is False


def test_model_rewrite_is_used_only_when_the_rules_agree() -> None:
    from assistant.conversation.rewrite import model_rewrite
    from tests.fakes import ScriptedBackend

    turns = [WHO]
    rule = resolve("What car does he drive?", turns)
    good = ScriptedBackend(["Standalone question: What car does Marek Wolski drive these days?"])
    res = model_rewrite(good, "What car does he drive?", turns, rule)
    assert res.standalone == "What car does Marek Wolski drive these days?"
    assert "Who is Marek Wolski?" in good.prompts[0][0]["content"]  # the conversation went in as data
    invented = ScriptedBackend(["What car does Andrei Popescu drive?"])  # a name the conversation never had
    assert model_rewrite(invented, "What car does he drive?", turns, rule) == rule
    dropped = ScriptedBackend(["What car does the suspect drive?"])  # loses the referent the rules found
    assert model_rewrite(dropped, "What car does he drive?", turns, rule) == rule
    number = ScriptedBackend(["What car does Marek Wolski drive, 07700 900999?"])  # an invented number
    assert model_rewrite(number, "What car does he drive?", turns, rule) == rule
    broken = ScriptedBackend([RuntimeError("model crashed")])
    assert model_rewrite(broken, "What car does he drive?", turns, rule) == rule


def test_page_opens_on_the_case_of_the_latest_conversation(fake_app: FakeApp) -> None:
    fake_app.users.assign("reviewer1", "heron")
    s = Session.for_username(fake_app, "reviewer1")
    assert ui_chat.last_case(s, ["heron", "kestrel"]) == "heron"  # no conversation yet: the first case
    assert ui_chat.last_case(s, ["kestrel"]) == "kestrel" and ui_chat.last_case(s, []) is None
    _final(list(ui_chat.ask(s, "kestrel", "who sold the sims?")))
    assert ui_chat.last_case(s, ["heron", "kestrel"]) == "kestrel"
    _final(list(ui_chat.ask(s, "heron", "who sold the sims?")))
    assert ui_chat.last_case(s, ["heron", "kestrel"]) == "heron"
    _final(list(ui_chat.ask(s, "kestrel", "who sold the sims?")))
    assert ui_chat.last_case(s, ["heron", "kestrel"]) == "kestrel"
