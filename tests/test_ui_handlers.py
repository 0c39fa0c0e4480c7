"""UI handlers as plain functions (no browser): chat, citation panel, supervisor, admin, login, and forged ids.

First against `FakeApp` (tests/test_session.py), then the main paths once more against the real App."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from assistant.access.auth import UserError
from assistant.access.demo import seed_demo_users
from assistant.access.session import Session
from assistant.config import load_settings
from assistant.errors import AccessDenied, AssistantError
from assistant.types import Answer, Citation, Passage
from assistant.ui import admin as ui_admin
from assistant.ui import chat as ui_chat
from assistant.ui import supervisor as ui_supervisor
from assistant.ui.build import build_ui, make_auth, make_session_resolver
from assistant.ui.render import NOT_FOUND, passage_html
from tests.test_session import SECRET, FakeApp


@pytest.fixture()
def fake_app(tmp_path: Path) -> FakeApp:
    app = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path))
    seed_demo_users(app)
    return app


def _s(app: Any, name: str) -> Session:
    return Session.for_username(app, name)


def _final(updates: list[ui_chat.ChatUpdate]) -> ui_chat.ChatUpdate:
    assert updates[-1].answer is not None
    return updates[-1]


# --- chat -----------------------------------------------------------------------------------------------------------
def test_chat_streams_then_shows_answer_backend_and_citations(fake_app: FakeApp) -> None:
    updates = list(ui_chat.ask(_s(fake_app, "supervisor1"), "kestrel", "who sold the sims?", []))
    assert updates[0].history[-1]["content"] == ui_chat.PENDING
    assert len(updates) > 2  # cleared role: text deltas streamed, each labelled as an unchecked draft
    assert all(u.history[-1]["content"].startswith(ui_chat.DRAFT_LABEL) for u in updates[1:-1])
    assert all("First words after" in u.history[-1]["content"] for u in updates[1:-1])  # time to first token
    final = _final(updates)
    assert ui_chat.DRAFT_LABEL not in final.history[-1]["content"]
    assert final.history[0] == {"role": "user", "content": "who sold the sims\\?"}  # shown as plain text
    assert "**[1]**" in final.history[-1]["content"]
    assert "backend <b>extractive</b>" in final.backend and "Smoke-test" not in final.backend
    assert [v for _, v in final.choices] == ["1", "2"]
    assert final.choices[0][0].startswith("[1] ✓ · messages/phone.csv")


def test_reviewer_sees_masked_answer_without_raw_stream(fake_app: FakeApp) -> None:
    updates = list(ui_chat.ask(_s(fake_app, "reviewer1"), "kestrel", "who sold the sims?", []))
    assert len(updates) == 2
    assert all(SECRET not in u.history[-1]["content"] for u in updates)


def test_smoke_model_warning(tmp_path: Path) -> None:
    app = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path),
                  model="SmolLM2-135M-Instruct-Q8_0.gguf")
    seed_demo_users(app)
    final = _final(list(ui_chat.ask(_s(app, "reviewer1"), "kestrel", "who sold the sims?")))
    assert "Smoke-test model" in final.backend and "SmolLM2" in final.backend


def test_no_evidence_is_shown_as_not_found(fake_app: FakeApp) -> None:
    final = _final(list(ui_chat.ask(_s(fake_app, "reviewer1"), "kestrel", "nothing about this?")))
    assert NOT_FOUND in final.history[-1]["content"] and NOT_FOUND in final.backend
    assert final.choices == []


def test_forged_case_refused_by_chat_handlers(fake_app: FakeApp) -> None:
    reviewer2 = _s(fake_app, "reviewer2")
    assert reviewer2.cases() == ["heron"]
    with pytest.raises(AccessDenied):
        list(ui_chat.ask(reviewer2, "kestrel", "who sold the sims?"))
    # An answer object forged to point at kestrel (e.g. a tampered state) cannot open kestrel's passages.
    kestrel_answer = fake_app._answer("kestrel", "who sold the sims?")
    with pytest.raises(AccessDenied):
        ui_chat.open_citation(reviewer2, kestrel_answer, "1")
    assert ("get_chunk", "kestrel") not in fake_app.calls


def test_filters_are_built_from_the_form() -> None:
    assert ui_chat.make_filters("", " ", "", "", "") is None
    f = ui_chat.make_filters("2023-01-01", "2023-02-01", " Samir ", "messages/phone.csv", "PHONE_NUMBER")
    assert f is not None and f.sender == "Samir" and f.date_to == "2023-02-01" and f.entity_type == "PHONE_NUMBER"
    uk = ui_chat.make_filters("14/03/2023", "", "", "", "")
    assert uk is not None and uk.date_from == "2023-03-14"


@pytest.mark.parametrize(("start", "end", "message"), [
    ("March 2023", "", "From date 'March 2023' is not a date: write it as YYYY-MM-DD"),
    ("", "2023-02-30", "To date '2023-02-30' is not a date"),
    ("2023-04-01", "2023-03-01", "From date 2023-04-01 is after To date 2023-03-01"),
])
def test_bad_filter_dates_are_refused_with_the_fix(start: str, end: str, message: str) -> None:
    with pytest.raises(AssistantError, match=message):
        ui_chat.make_filters(start, end, "", "", "")


def test_citation_panel_shows_original_beside_translation_with_mark(fake_app: FakeApp) -> None:
    s = _s(fake_app, "supervisor1")
    answer = _final(list(ui_chat.ask(s, "kestrel", "who sold the sims?"))).answer
    html = ui_chat.open_citation(s, answer, "1")
    assert '<mark class="quote">two new sim cards</mark>' in html
    assert "عندي شريحتان جديدتان" in html and "ar" in html
    assert "2023-01-10T12:31:05+00:00" in html and "Samir → Marek" in html
    assert "messages/phone.csv" in html and "HE3-T4" in html
    prose = ui_chat.open_citation(s, answer, "2")
    assert '<mark class="quote">blue Ford Fiesta</mark>' in prose and "statements/witness.txt" in prose
    assert "p1 l3-4" in prose
    assert "no citation [9]" in ui_chat.open_citation(s, answer, "9")
    assert "Click a citation" in ui_chat.open_citation(s, None, "1")


def test_citation_panel_is_masked_for_reviewers(fake_app: FakeApp) -> None:
    s = _s(fake_app, "reviewer1")
    answer = _final(list(ui_chat.ask(s, "kestrel", "who sold the sims?"))).answer
    html = ui_chat.open_citation(s, answer, "1")
    assert SECRET not in html and "&lt;PERSON_1&gt;" in html
    # masking shifted the passage offsets: the quote is still found and marked inside the right message
    assert '<mark class="quote">two new sim cards</mark>' in html and "_1&gt;:" not in html


def test_evidence_text_is_escaped_before_marking() -> None:
    text = 'He wrote <script>alert("x")</script> & then left'
    passage = Passage("c:1", "c", "a<b>.txt", "p1", text, 1.0)
    cite = Citation(1, "c:1", "a<b>.txt", "p1", "alert(\"x\")", text, True, text.find("alert"))
    html = passage_html(cite, passage)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a&lt;b&gt;.txt" in html
    assert '<mark class="quote">alert(&quot;x&quot;)</mark>' in html
    missing = passage_html(dataclasses.replace(cite, quote="not there", verified=False), passage)
    assert "<mark" not in missing and "not found verbatim" in missing and "NOT verified" in missing


# --- supervisor -----------------------------------------------------------------------------------------------------
def _three_answers(app: FakeApp) -> list[int]:
    for who, case in (("reviewer1", "kestrel"), ("reviewer1", "kestrel"), ("reviewer2", "heron")):
        _s(app, who).ask(case, "who sold the sims?")
    return [r.seq for r in app.audit.records(kind="answer")]


def test_supervisor_table_filters_and_review(fake_app: FakeApp) -> None:
    k1, k2, h1 = _three_answers(fake_app)
    sup = _s(fake_app, "supervisor1")
    rows = ui_supervisor.audit_rows(sup)
    assert [r[0] for r in rows] == [k2, k1]  # newest first, kestrel only
    assert rows[0][2:7] == ["kestrel", "reviewer1", "answered", "pending", "2/2"]
    assert "Record" in ui_supervisor.open_record(sup, k1)
    msg = ui_supervisor.review(sup, k1, "approved", "matches the CSV")
    assert "approved" in msg
    ui_supervisor.review(sup, float(k2), "flagged", "wrong <b>phone</b>")
    assert "approved by supervisor1" in ui_supervisor.open_record(sup, k1)
    assert "wrong &lt;b&gt;phone&lt;/b&gt;" in ui_supervisor.open_record(sup, k2)
    assert [r[0] for r in ui_supervisor.audit_rows(sup, review="flagged")] == [k2]
    assert [r[0] for r in ui_supervisor.audit_rows(sup, review="pending")] == []
    assert ui_supervisor.audit_rows(sup, reviewer="reviewer2") == []
    assert ui_supervisor.audit_rows(sup, date_to="2000-01-01") == []
    with pytest.raises(AccessDenied):
        ui_supervisor.audit_rows(sup, case="heron")
    with pytest.raises(AccessDenied):  # forged seq of another case
        ui_supervisor.review(sup, h1, "approved", "")
    with pytest.raises(AccessDenied):
        ui_supervisor.open_record(sup, h1)
    with pytest.raises(AccessDenied):
        ui_supervisor.audit_rows(_s(fake_app, "reviewer1"))
    assert fake_app.audit.verify().ok


def test_accuracy_panel(fake_app: FakeApp) -> None:
    k1, k2, _ = _three_answers(fake_app)
    sup = _s(fake_app, "supervisor1")
    _, summary = ui_supervisor.accuracy_plot(sup, "kestrel")
    assert summary == "No reviewed answers yet."
    ui_supervisor.review(sup, k1, "approved")
    ui_supervisor.review(sup, k2, "approved")
    ui_supervisor.review(sup, k2, "flagged")  # latest decision counts
    (day,) = ui_supervisor.accuracy_series(sup, "kestrel")
    assert (day.approved, day.flagged, day.accuracy) == (1, 1, 0.5)
    fig, summary = ui_supervisor.accuracy_plot(sup, "kestrel")
    assert "accuracy 50.0%" in summary and fig.axes


def test_export_files(fake_app: FakeApp) -> None:
    k1, _, _ = _three_answers(fake_app)
    sup = _s(fake_app, "supervisor1")
    ui_supervisor.review(sup, k1, "approved", "ok")
    data = json.loads(Path(ui_supervisor.export_file(sup, "kestrel", "json")).read_text())["records"]
    kinds = [d["kind"] for d in data if d["kind"] != "assignment"]  # the demo setup's assignment is a kestrel record
    assert kinds == ["answer", "answer", "review"] and {d["case"] for d in data} == {"kestrel"}
    path = Path(ui_supervisor.export_file(sup, "kestrel", "csv"))
    assert path.name.startswith("audit-kestrel-") and path.suffix == ".csv"
    rows = [r for r in csv.DictReader(io.StringIO(path.read_text())) if r["kind"] != "assignment"]
    assert rows[0]["question"] == "who sold the sims?" and rows[-2]["decision"] == "approved"
    assert rows[-1]["kind"] == "export"  # the JSON export above was itself recorded
    assert len(fake_app.audit.records(kind="export")) == 2
    with pytest.raises(AccessDenied):
        ui_supervisor.export_file(sup, "heron", "json")


# --- admin ----------------------------------------------------------------------------------------------------------
def test_admin_handlers(fake_app: FakeApp, tmp_path: Path) -> None:
    admin = _s(fake_app, "admin")
    fake_app.settings.ui.ingest_roots = [str(tmp_path)]  # the folder field reads under configured roots only
    folder = tmp_path / "case-files"
    folder.mkdir()
    seen: list[tuple[int, int, str]] = []
    out = ui_admin.ingest(admin, "otter", str(folder), [str(tmp_path / "upload.csv")],
                          on_progress=lambda *a: seen.append(a))
    assert "Ingest finished" in out and fake_app.ingested[-1][1] == "otter" and len(seen) == 2
    with pytest.raises(UserError, match="does not exist"):
        ui_admin.ingest(admin, "otter", str(tmp_path / "missing"))
    with pytest.raises(UserError, match="give a folder"):
        ui_admin.ingest(admin, "otter", "", [])
    assert "Added reviewer `reviewer9`" in ui_admin.add_user(admin, "reviewer9", "swift-review-9", "reviewer", "otter")
    assert "otter" in ui_admin.change_assignment(admin, "reviewer9", "heron", "assign")
    assert "heron" not in ui_admin.change_assignment(admin, "reviewer9", "heron", "unassign")
    assert ["reviewer9", "reviewer", "otter"] in ui_admin.user_rows(admin)
    with pytest.raises(UserError, match="unknown role"):
        ui_admin.add_user(admin, "x9", "swift-review-9", "root")
    for name in ("reviewer1", "supervisor1"):
        with pytest.raises(AccessDenied):
            ui_admin.ingest(_s(fake_app, name), "kestrel", str(folder))
        with pytest.raises(AccessDenied):
            ui_admin.add_user(_s(fake_app, name), "sneaky", "sneaky-password", "admin")


# --- login and request resolution -----------------------------------------------------------------------------------
def test_login_callable_is_audited_without_recording_typed_secrets(fake_app: FakeApp) -> None:
    auth = make_auth(fake_app)  # a coroutine function: Gradio awaits it, the bcrypt check runs in a thread

    def check(username: str, password: str) -> bool:
        return asyncio.run(auth(username, password))

    assert check("reviewer1", "kestrel-review") is True
    assert check("reviewer1", "wrong") is False
    assert check("kestrel-review", "reviewer1") is False  # swapped fields: the typed "name" is never stored
    logins = fake_app.audit.records(kind="login")
    assert [(r.user, r.payload["ok"]) for r in logins] == [("reviewer1", True), ("reviewer1", False),
                                                            ("<unknown>", False)]


def test_session_resolver_uses_request_username_only(fake_app: FakeApp) -> None:
    resolve = make_session_resolver(fake_app)
    assert resolve(SimpleNamespace(username="reviewer2")).user.username == "reviewer2"  # type: ignore[arg-type]
    with pytest.raises(gr.Error):
        resolve(SimpleNamespace(username=None))  # type: ignore[arg-type]
    with pytest.raises(gr.Error):
        resolve(None)
    fake_app.settings.ui.auth = False
    assert make_session_resolver(fake_app, "admin")(None).user.role == "admin"
    with pytest.raises(gr.Error):
        make_session_resolver(fake_app)(SimpleNamespace(username="admin"))  # type: ignore[arg-type]


def test_build_ui_constructs(fake_app: FakeApp) -> None:
    demo = build_ui(fake_app)
    assert isinstance(demo, gr.Blocks)
    config = demo.get_config_file()
    assert all(d.get("api_visibility") == "private" for d in config["dependencies"])


# --- the real App ---------------------------------------------------------------------------------------------------
STATEMENT = """WITNESS STATEMENT of Dana Ellery
On 14 March 2023 I saw a white Ford Transit van parked outside the Ashmere Road shop.
The driver handed a small package to a teenage girl and drove towards the canal.
"""
MESSAGES = [
    ["message_id", "thread_id", "timestamp", "sender", "recipient", "language", "body", "translation", "device"],
    ["M-1", "T-1", "2023-03-14T18:02:00+00:00", "Marek", "Samir", "pl", "przywiozę telefon w sobotę",
     "i will bring the phone on saturday", "HE/3"],
    ["M-2", "T-1", "2023-03-14T18:05:00+00:00", "Samir", "Marek", "en", "ok meet at the canal bridge", "", "HE/3"],
]


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App

    root = tmp_path_factory.mktemp("real")
    corpus = root / "corpus"
    (corpus / "statements").mkdir(parents=True)
    (corpus / "messages").mkdir()
    (corpus / "statements" / "ellery.txt").write_text(STATEMENT, encoding="utf-8")
    with (corpus / "messages" / "phone.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(MESSAGES)
    settings = load_settings(index_dir=root / "index", demo_index_dir=root / "index")
    settings.llm.backend = "extractive"
    app = App(settings)
    seed_demo_users(app)
    assert app.ingest([corpus], "kestrel", progress=False).ingested
    assert app.ingest([corpus / "statements"], "heron", progress=False).ingested
    probe = _s(app, "admin").ask("kestrel", "probe question about the van")  # every lazily built service
    _s(app, "admin").get_chunk("kestrel", probe.retrieved[0].chunk_id if probe.retrieved else "none")
    return app


@pytest.mark.slow
def test_real_app_chat_and_citation(real_app: Any) -> None:
    s = _s(real_app, "reviewer1")
    final = _final(list(ui_chat.ask(s, "kestrel", "What vehicle was parked outside the shop?")))
    answer = final.answer
    assert isinstance(answer, Answer) and answer.status == "answered" and final.choices
    html = ui_chat.open_citation(s, answer, final.choices[0][1])
    assert "<mark" in html and "statements/ellery.txt" in html
    for _, n in final.choices:  # masked for a reviewer, every quote is still found and marked in its passage
        assert '<mark class="quote">' in ui_chat.open_citation(s, answer, n), n
    rec = real_app.audit.records(kind="answer")[-1]
    assert rec.user == "reviewer1" and rec.case == "kestrel"


@pytest.mark.slow
def test_real_app_message_citation_shows_original(real_app: Any) -> None:
    s = _s(real_app, "supervisor1")
    final = _final(list(ui_chat.ask(s, "kestrel", "When will Marek bring the phone?")))
    assert final.answer is not None
    message_cites = [c for c in final.answer.citations if c.source.endswith("phone.csv")]
    if final.answer.status != "answered" or not message_cites:
        pytest.skip("extractive answer did not cite the message export")
    html = ui_chat.open_citation(s, final.answer, str(message_cites[0].n))
    assert "przywiozę telefon w sobotę" in html and "<mark" in html


@pytest.mark.slow
def test_real_app_forged_case_and_supervisor_flag(real_app: Any) -> None:
    with pytest.raises(AccessDenied):
        list(ui_chat.ask(_s(real_app, "reviewer2"), "kestrel", "What vehicle was parked outside the shop?"))
    assert _s(real_app, "reviewer2").cases() == ["heron"]
    _final(list(ui_chat.ask(_s(real_app, "reviewer1"), "kestrel", "Where did the driver go?")))
    sup = _s(real_app, "supervisor1")
    seq = ui_supervisor.audit_rows(sup)[0][0]
    assert "flagged" in ui_supervisor.review(sup, seq, "flagged", "check the direction")
    assert real_app.audit.verify().ok
