"""Session: the only path the UI uses. Server-side access checks per role and case, masking per role.

`FakeApp` implements the contract of `assistant.app.App` that Session relies on, with canned passages, so these
tests run without models; tests/test_ui_handlers.py runs the same paths once more against the real App."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from assistant.access.audit import AuditLog
from assistant.access.auth import UserError, UserStore
from assistant.access.demo import seed_demo_users
from assistant.access.session import AuditFilters, Session
from assistant.config import Settings, load_settings
from assistant.errors import AccessDenied
from assistant.types import Answer, Citation, Passage, RetrievalFilters

SECRET = "Samir"  # stands in for PII: masked for roles that are not cleared

_MESSAGES_TEXT = "Marek: need 2 new sims\nSamir: i have two new sim cards and a nokia phone for forty pounds"
_MESSAGES = [
    {"message_id": "HE3-0001", "thread_id": "HE3-T4", "timestamp": "2023-01-10T12:03:40+00:00", "sender": "Marek",
     "recipient": "Samir", "language": "en", "body": "need 2 new sims", "translation": "", "device": "HE/3",
     "start": 7, "end": 22},
    {"message_id": "HE3-0002", "thread_id": "HE3-T4", "timestamp": "2023-01-10T12:31:05+00:00", "sender": "Samir",
     "recipient": "Marek", "language": "ar", "body": "عندي شريحتان جديدتان", "device": "HE/3",
     "translation": "i have two new sim cards and a nokia phone for forty pounds", "start": 30, "end": 89},
]


def _passages(case: str) -> list[Passage]:
    prose = Passage(f"{case}:statement:0", case, "statements/witness.txt", "p1 l3-4",
                    f"I saw a blue Ford Fiesta outside the shop in case {case}.\nThe driver was tall.", 0.9, 1,
                    "text", {"page": 1, "line_start": 3, "line_end": 4})
    messages = Passage(f"{case}:messages:0", case, "messages/phone.csv", "HE3-T4 HE3-0001..HE3-0002",
                       _MESSAGES_TEXT, 0.8, 2, "messages", {"messages": json.dumps(_MESSAGES)})
    return [prose, messages]


class FakeApp:
    """Canned answers; records calls so tests can prove which case reached the services."""

    def __init__(self, settings: Settings, model: str = "") -> None:
        self.settings = settings
        self.model = model
        self.calls: list[tuple[str, str]] = []
        self.ingested: list[tuple[list[Path], str]] = []

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.index_dir / "audit.sqlite")

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.settings.index_dir / "users.sqlite", rounds=4)

    def list_cases(self) -> list[str]:
        return sorted({"heron", "kestrel", *(case for _, case in self.ingested)})

    def ingest(self, paths: Sequence[Path], case: str, *, progress: bool = True,
               on_progress: Callable[[int, int, str], None] | None = None, actor: str = "") -> Any:
        self.ingested.append((list(paths), case))
        for i, p in enumerate(paths, 1):
            if on_progress:
                on_progress(i, len(paths), Path(p).name)
        return {"case": case, "ingested": [Path(p).name for p in paths]}

    def _answer(self, case: str, question: str) -> Answer:
        self.calls.append(("ask", case))
        passages = _passages(case)
        if "nothing" in question:
            return Answer(question, case, "no_evidence", "Not found in the case material.", "extractive",
                          (), tuple(passages), model=self.model)
        msg = passages[1]
        quote = "two new sim cards"
        cites = (
            Citation(1, msg.chunk_id, msg.source, msg.locator, quote, msg.text, True, msg.text.find(quote)),
            Citation(2, passages[0].chunk_id, passages[0].source, passages[0].locator, "blue Ford Fiesta",
                     passages[0].text, True, passages[0].text.find("blue Ford Fiesta")),
        )
        return Answer(question, case, "answered", f"{SECRET} offered two new SIM cards [1]. A blue Ford Fiesta was "
                      "seen [2].", "extractive", cites, tuple(passages), model=self.model, prompt_version="v1")

    def ask(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
            purpose: str = "", audit_extra: dict[str, Any] | None = None) -> Answer:
        answer = self._answer(case, question)
        self.audit.append_answer(user, answer, audit_extra, purpose=purpose)
        return answer

    def ask_stream(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
                   purpose: str = "", audit_extra: dict[str, Any] | None = None) -> Iterator[str | Answer]:
        answer = self._answer(case, question)
        for word in answer.answer.split(" "):
            yield word + " "
        self.audit.append_answer(user, answer, audit_extra, purpose=purpose)
        yield answer

    def list_sources(self, case: str) -> list[str]:
        return sorted({p.source for p in _passages(case)})

    def get_chunk(self, case: str, chunk_id: str) -> Passage | None:
        self.calls.append(("get_chunk", case))
        return next((p for p in _passages(case) if p.chunk_id == chunk_id), None)

    def _clear(self, role: str) -> bool:
        return self.settings.pii.sees_clear(role)

    def mask_answer(self, answer: Answer, role: str) -> Answer:
        if self._clear(role):
            return answer
        cites = tuple(dataclasses.replace(c, text=c.text.replace(SECRET, "<PERSON_1>")) for c in answer.citations)
        retrieved = tuple(self.mask_passage(p, role) for p in answer.retrieved)
        return dataclasses.replace(answer, answer=answer.answer.replace(SECRET, "<PERSON_1>"), citations=cites,
                                   retrieved=retrieved)

    def mask_passage(self, passage: Passage, role: str) -> Passage:
        if self._clear(role):
            return passage
        meta = dict(passage.meta)
        if isinstance(meta.get("messages"), str):
            meta["messages"] = str(meta["messages"]).replace(SECRET, "<PERSON_1>")
        return dataclasses.replace(passage, text=passage.text.replace(SECRET, "<PERSON_1>"), meta=meta)


@pytest.fixture()
def fake_app(tmp_path: Path) -> FakeApp:
    app = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path))  # the demo index: demo accounts
    seed_demo_users(app)
    return app


def session(app: Any, username: str) -> Session:
    return Session.for_username(app, username)


def test_unknown_or_missing_user_gets_no_session(fake_app: FakeApp) -> None:
    for name in (None, "", "mallory"):
        with pytest.raises(AccessDenied, match="not logged in"):
            Session.for_username(fake_app, name)


def test_demo_users_seeded_once_with_their_cases(fake_app: FakeApp) -> None:
    seed_demo_users(fake_app)  # idempotent
    users = {u.username: u for u in fake_app.users.list_users()}
    assert set(users) == {"reviewer1", "reviewer2", "supervisor1", "supervisor2", "admin"}
    assert users["reviewer1"].cases == ("kestrel",) and users["reviewer2"].cases == ("heron",)
    assert users["supervisor2"].cases == ("plover",)
    assert users["supervisor1"].role == "supervisor" and users["admin"].role == "admin"
    assert fake_app.users.authenticate("reviewer2", "heron-review") is not None
    assert fake_app.users.authenticate("admin", "kestrel-admin") is not None


def test_cases_are_only_the_assigned_ones(fake_app: FakeApp) -> None:
    assert session(fake_app, "reviewer1").cases() == ["kestrel"]
    assert session(fake_app, "reviewer2").cases() == ["heron"]
    assert session(fake_app, "admin").cases() == ["heron", "kestrel"]
    fake_app.users.assign("reviewer2", "ghost-case")  # assigned but not indexed: not offered
    assert session(fake_app, "reviewer2").cases() == ["heron"]


def test_reviewer_cannot_ask_or_read_another_case(fake_app: FakeApp) -> None:
    s = session(fake_app, "reviewer2")
    with pytest.raises(AccessDenied, match="not assigned to case 'kestrel'"):
        s.ask("kestrel", "who sold the sims?")
    with pytest.raises(AccessDenied):
        list(s.ask_stream("kestrel", "who sold the sims?"))
    with pytest.raises(AccessDenied):
        s.get_chunk("kestrel", "kestrel:messages:0")
    with pytest.raises(AccessDenied):
        s.ask("", "who?")
    assert fake_app.calls == []  # nothing reached the services
    assert fake_app.audit.records(kind="answer") == []


def test_revoked_assignment_applies_to_an_open_session(fake_app: FakeApp) -> None:
    s = session(fake_app, "reviewer1")
    s.ask("kestrel", "who sold the sims?")
    fake_app.users.unassign("reviewer1", "kestrel")
    with pytest.raises(AccessDenied):
        s.ask("kestrel", "who sold the sims?")


def test_ask_is_audited_as_the_user_and_masked_for_reviewers(fake_app: FakeApp) -> None:
    answer = session(fake_app, "reviewer1").ask("kestrel", "  who sold the sims?  ")
    assert SECRET not in answer.answer and "<PERSON_1>" in answer.answer
    assert all(SECRET not in c.text for c in answer.citations)
    (record,) = fake_app.audit.records(kind="answer")
    assert record.user == "reviewer1" and record.case == "kestrel"
    assert record.payload["question"] == "who sold the sims?"
    clear = session(fake_app, "supervisor1").ask("kestrel", "who sold the sims?")
    assert SECRET in clear.answer
    with pytest.raises(UserError, match="type a question"):
        session(fake_app, "reviewer1").ask("kestrel", "   ")


def test_stream_hides_raw_deltas_from_roles_not_cleared(fake_app: FakeApp) -> None:
    items = list(session(fake_app, "reviewer1").ask_stream("kestrel", "who sold the sims?"))
    assert len(items) == 1 and isinstance(items[0], Answer) and SECRET not in items[0].answer
    items = list(session(fake_app, "supervisor1").ask_stream("kestrel", "who sold the sims?"))
    assert isinstance(items[-1], Answer) and len(items) > 2
    assert "".join(i for i in items if isinstance(i, str)).strip() == items[-1].answer


def test_get_chunk_masks_passages(fake_app: FakeApp) -> None:
    p = session(fake_app, "reviewer1").get_chunk("kestrel", "kestrel:messages:0")
    assert p is not None and SECRET not in p.text and SECRET not in str(p.meta["messages"])
    assert session(fake_app, "reviewer1").get_chunk("kestrel", "kestrel:missing") is None


def test_audit_actions_need_supervisor_or_admin(fake_app: FakeApp) -> None:
    reviewer = session(fake_app, "reviewer1")
    reviewer.ask("kestrel", "who sold the sims?")
    for action in (lambda: reviewer.audit_records(), lambda: reviewer.review(1, "approved", ""),
                   lambda: reviewer.export("kestrel", "json"), lambda: reviewer.audit_record(1),
                   lambda: reviewer.ingest([Path("x")], "kestrel"),
                   lambda: reviewer.add_user("x1", "pw-12345", "admin"),
                   lambda: reviewer.assign("reviewer1", "heron")):
        with pytest.raises(AccessDenied):
            action()
    supervisor = session(fake_app, "supervisor1")
    with pytest.raises(AccessDenied, match="needs an admin"):
        supervisor.ingest([Path("x")], "kestrel")
    with pytest.raises(AccessDenied, match="needs an admin"):
        supervisor.assign("supervisor1", "heron")
    assert fake_app.users.can_access("reviewer1", "heron") is False


def test_supervisor_sees_and_reviews_only_assigned_cases(fake_app: FakeApp) -> None:
    session(fake_app, "reviewer1").ask("kestrel", "who sold the sims?")
    session(fake_app, "reviewer2").ask("heron", "who sold the sims?")
    sup = session(fake_app, "supervisor1")
    records = sup.audit_records()
    assert [r.case for r in records] == ["kestrel"]
    heron_seq = fake_app.audit.records(case="heron", kind="answer")[0].seq
    with pytest.raises(AccessDenied):
        sup.audit_record(heron_seq)
    with pytest.raises(AccessDenied):
        sup.review(heron_seq, "approved", "forged seq")
    with pytest.raises(AccessDenied):
        sup.audit_records(AuditFilters(case="heron"))
    with pytest.raises(AccessDenied):
        sup.export("heron", "json")
    rec = sup.review(records[0].seq, "flagged", "wrong phone")
    assert rec.kind == "review" and rec.user == "supervisor1" and rec.payload["decision"] == "flagged"
    assert sup.review_status()[records[0].seq].payload["comment"] == "wrong phone"
    with pytest.raises(UserError, match="decision must be"):
        sup.review(records[0].seq, "deleted", "")
    with pytest.raises(UserError, match="not an answer"):
        sup.review(rec.seq, "approved", "")
    admin = session(fake_app, "admin")
    assert {r.case for r in admin.audit_records()} == {"kestrel", "heron"}
    assert admin.audit_cases() == ["heron", "kestrel", "plover"]  # plover: the demo assignment record
    assert fake_app.audit.verify().ok


def test_export_is_itself_audited(fake_app: FakeApp) -> None:
    session(fake_app, "reviewer1").ask("kestrel", "who sold the sims?")
    text = session(fake_app, "supervisor1").export("kestrel", "csv")
    assert text.startswith("seq,time,kind")
    (export,) = fake_app.audit.records(kind="export")
    assert export.user == "supervisor1" and export.case == "kestrel" and export.payload["format"] == "csv"


def test_admin_ingests_and_manages_users(fake_app: FakeApp, tmp_path: Path) -> None:
    admin = session(fake_app, "admin")
    seen: list[tuple[int, int, str]] = []
    admin.ingest([tmp_path / "a.txt", tmp_path / "b.txt"], "newcase", on_progress=lambda *a: seen.append(a))
    assert fake_app.ingested[-1][1] == "newcase" and seen[-1][:2] == (2, 2)
    (rec,) = fake_app.audit.records(kind="ingest")
    assert rec.user == "admin" and rec.case == "newcase" and rec.payload["paths"] == 2
    with pytest.raises(UserError, match="invalid case id"):
        admin.ingest([tmp_path], "../escape")
    admin.add_user("reviewer3", "owl-review-pw", "reviewer")
    admin.assign("reviewer3", "heron")
    assert session(fake_app, "reviewer3").cases() == ["heron"]
    admin.unassign("reviewer3", "heron")
    assert session(fake_app, "reviewer3").cases() == []
    assert [u.username for u in admin.list_users()][:2] == ["admin", "reviewer1"]
