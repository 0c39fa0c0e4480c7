"""Supervisor flow through the real handlers (FakeApp): search, a record's model/prompt/filters/citations with the
passage one click away, decisions in two steps with a history, flat CSV columns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from assistant.access.demo import seed_demo_users
from assistant.access.session import Session
from assistant.config import load_settings
from assistant.errors import AssistantError
from assistant.types import RetrievalFilters
from assistant.ui import supervisor as ui_supervisor
from tests.test_session import FakeApp


@pytest.fixture()
def app(tmp_path: Path) -> FakeApp:
    fake = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path))
    seed_demo_users(fake)
    reviewer = Session.for_username(fake, "reviewer1")  # a filter naming a masked person would be refused
    reviewer.ask("kestrel", "who sold the sims?", RetrievalFilters(sender="Marek"),
                 audit_extra={"filters": {"sender": "Marek"}, "asked": "who sold them?",
                              "searched_for": "who sold the sims?"})
    reviewer.ask("kestrel", "what car was seen?")
    return fake


def test_search_and_record_view(app: FakeApp) -> None:
    sup = Session.for_username(app, "supervisor1")
    rows = ui_supervisor.audit_rows(sup, "kestrel", search="CAR WAS")
    assert [r[-1] for r in rows] == ["what car was seen?"]
    all_rows = ui_supervisor.audit_rows(sup, "kestrel")
    assert [r[0] for r in all_rows] == sorted((r[0] for r in all_rows), reverse=True)  # newest first
    seq = all_rows[-1][0]
    html = ui_supervisor.open_record(sup, seq)
    assert "model <b>none (extractive)</b>" in html and "prompt <b>v1</b>" in html
    assert "Filters: sender = Marek" in html and "Asked as: “who sold them?”" in html
    assert "<code>messages/phone.csv</code> HE3-T4" in html and "kestrel:msg" not in html.split("Retrieved")[0]
    choices = ui_supervisor.citation_choices(sup, seq)
    assert choices[0][1] == "1" and "messages/phone.csv" in choices[0][0]
    passage = ui_supervisor.open_cited_passage(sup, seq, "1")
    assert "two new sim cards" in passage and "<mark" in passage


def test_a_flag_is_not_turned_into_an_approval_by_one_click(app: FakeApp) -> None:
    sup = Session.for_username(app, "supervisor1")
    seq = ui_supervisor.audit_rows(sup, "kestrel")[0][0]
    staged, msg = ui_supervisor.stage_decision(sup, seq, "flagged")
    assert "records it as flagged" in msg and app.audit.review_status("kestrel") == {}  # nothing recorded yet
    ui_supervisor.confirm_decision(sup, staged, "wrong handset")
    staged2, msg2 = ui_supervisor.stage_decision(sup, seq, "approved")  # the stray click
    assert "CHANGES the decision from flagged" in msg2
    assert app.audit.review_status("kestrel")[seq].payload["decision"] == "flagged"
    with pytest.raises(AssistantError, match="nothing to confirm"):
        ui_supervisor.confirm_decision(sup, None, "")
    ui_supervisor.confirm_decision(sup, staged2, "rechecked: right handset")
    history = ui_supervisor.reviews_of(sup, sup.audit_record(seq))
    assert [r.payload["decision"] for r in history] == ["flagged", "approved"]
    html = ui_supervisor.open_record(sup, seq)
    assert html.index("flagged</b> by supervisor1") < html.index("approved</b> by supervisor1")


def test_csv_has_flat_columns(app: FakeApp) -> None:
    sup = Session.for_username(app, "supervisor1")
    seq = ui_supervisor.audit_rows(sup, "kestrel")[-1][0]
    staged, _ = ui_supervisor.stage_decision(sup, seq, "flagged")
    ui_supervisor.confirm_decision(sup, staged, "check the quote")
    rows = list(csv.DictReader(io.StringIO(Path(ui_supervisor.export_file(sup, "kestrel", "csv")).read_text())))
    assert "payload" not in rows[0]
    first = next(r for r in rows if r["kind"] == "answer")
    assert first["answer"] and first["filters"] == "sender=Marek" and first["asked"] == "who sold them?"
    assert first["citations"].startswith("[1] messages/phone.csv · ")
    review = next(r for r in rows if r["kind"] == "review")
    assert review["decision"] == "flagged" and review["comment"] == "check the quote"
    assert review["answer_seq"] == str(seq)
