"""Red team, issue 15 ("Accounts", "Audit gaps", "Login and sessions"): each finding replayed against the real
code (the `assistant` entry point, the real UserStore/AuditLog/Session, the real App) and now failing to do harm.

Finding -> test:
  Accounts
  - demo accounts created in whatever ASSISTANT_INDEX_DIR points at -> test_demo_accounts_never_land_in_another_index
  - demo cases re-assigned over an admin's changes on every run -> test_demo_accounts_never_land_in_another_index
  - a published demo password keeps working outside the demo -> test_serve_refuses_while_a_published_password_works
  - no command changes a password or removes a user -> test_users_passwd_disable_remove_from_the_cli
  Audit gaps
  - user creation, case (un)assignment, CLI ingest not recorded -> test_account_changes_and_cli_ingest_are_recorded
  - passage views and access denials not recorded; no stated purpose -> test_views_denials_and_purpose_are_recorded
  - `ask --user supervisor1` records whatever name is given -> test_cli_identity_is_the_os_user
  - supervisors can approve their own answers -> test_no_self_approval
  - dropping the trigger and deleting the last records verifies OK -> test_truncated_tail_fails_verify
  - a deleted log is recreated empty and verifies OK -> test_deleted_log_fails_verify_and_is_not_recreated
  - an edited record re-hashed without the key; head kept nowhere else -> test_rehashed_edit_fails_verify
  - a per-case export cannot be verified on its own -> test_case_export_verifies_on_its_own
  Login and sessions
  - the bcrypt check and an audit write run on Gradio's event loop -> test_password_check_runs_off_the_event_loop
  - no throttling -> test_login_flood_backs_off_then_locks_out_per_user, test_password_spray_locks_out_the_client
  - sessions never expire -> test_sessions_expire_when_idle_and_after_the_absolute_limit
  - ... even after a password change -> test_password_change_disable_remove_end_sessions (CLI in another App)
  - the result stream is not tied to the logged-in user -> test_results_stream_is_tied_to_the_login (real server)
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import os
import pwd
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.access.accounts import Accounts
from assistant.access.audit import AuditLog, canonical_json
from assistant.access.auth import UserStore
from assistant.access.chain import record_hash
from assistant.access.demo import DEMO_USERS, check_serve_allowed
from assistant.access.logins import LoginSessions, LoginThrottle, TokenMap, make_login_check
from assistant.access.session import Session
from assistant.app import App
from assistant.cli import admin as admin_cli
from assistant.cli import main as cli
from assistant.config import load_settings
from assistant.errors import AccessDenied, AssistantError

OS_USER = pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture()
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A production-like index and a separate demo index, chosen through the environment as a user would."""
    prod, demo = tmp_path / "prod-index", tmp_path / "demo-index"
    tiny = tmp_path / "tiny-demo"
    tiny.mkdir()
    (tiny / "note.txt").write_text("Officer Grey saw a blue van outside the depot on 3 March 2023.\n")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(prod))
    monkeypatch.setenv("ASSISTANT_DEMO_INDEX_DIR", str(demo))
    monkeypatch.setenv("ASSISTANT_DEMO_DIR", str(tiny))
    monkeypatch.setenv("ASSISTANT_ACCESS__BCRYPT_ROUNDS", "4")
    monkeypatch.chdir(tmp_path)  # no demo/operation-plover here: the demo run stays small
    return {"prod": prod, "demo": demo}


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _usernames(index: Path) -> set[str]:
    if not (index / "users.sqlite").exists():
        return set()
    with sqlite3.connect(index / "users.sqlite") as conn:
        return {r[0] for r in conn.execute("SELECT username FROM users")}


# ---- Accounts -------------------------------------------------------------------------------------------------------
def test_demo_accounts_never_land_in_another_index(dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--no-progress"]) == 0
    assert _usernames(dirs["prod"]) == set()  # ASSISTANT_INDEX_DIR got no account at all
    assert _usernames(dirs["demo"]) == {name for name, *_ in DEMO_USERS}
    assert "never in" in capsys.readouterr().err
    app = App(load_settings())  # the production index, as `assistant serve` would build it
    with pytest.raises(AssistantError, match="demo index"):
        from assistant.access.demo import seed_demo_users

        seed_demo_users(app)
    assert _usernames(dirs["prod"]) == set()
    demo = UserStore(dirs["demo"] / "users.sqlite")
    demo.unassign("reviewer1", "kestrel")  # an admin's changes in the demo index ...
    demo.remove_user("reviewer2")
    capsys.readouterr()
    assert cli.main(["demo", "--no-progress"]) == 0  # ... survive the next `make run`
    assert "left as they are" in capsys.readouterr().out
    assert demo.get("reviewer1").cases == ()  # type: ignore[union-attr]
    assert demo.get("reviewer2") is None


def test_serve_refuses_while_a_published_password_works(dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # An index made before this fix: the demo admin with its README password, outside the demo index.
    UserStore(dirs["prod"] / "users.sqlite", rounds=4).add_user("admin", "kestrel-admin", "admin")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "admin" in err and "assistant users passwd admin" in err and "refusing to serve" in err
    _stdin(monkeypatch, "a-new-secret-99\n")
    assert cli.main(["users", "passwd", "admin", "--password-stdin"]) == 0
    check_serve_allowed(App(load_settings()))  # no published password works any more: serving is allowed
    _stdin(monkeypatch, "kestrel-audit\n")  # and no account can be given a published password again
    assert cli.main(["users", "passwd", "admin", "--password-stdin"]) == 2
    assert "published" in capsys.readouterr().err


def test_users_passwd_disable_remove_from_the_cli(dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, "first-secret-1\n")
    assert cli.main(["users", "add", "dana", "--role", "reviewer", "--password-stdin", "--case", "c1"]) == 0
    store = UserStore(dirs["prod"] / "users.sqlite", rounds=4)
    _stdin(monkeypatch, "second-secret-2\n")
    assert cli.main(["users", "passwd", "dana", "--password-stdin"]) == 0
    assert store.authenticate("dana", "first-secret-1") is None
    assert store.authenticate("dana", "second-secret-2") is not None
    # without --password-stdin the password is asked twice without echo (getpass), never taken from argv
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "third-secret-3")
    assert cli.main(["users", "passwd", "dana"]) == 0 and len(asked) == 2
    assert cli.main(["users", "disable", "dana"]) == 0
    assert store.authenticate("dana", "third-secret-3") is None and not store.can_access("dana", "c1")
    assert cli.main(["users", "enable", "dana"]) == 0
    assert store.authenticate("dana", "third-secret-3") is not None
    assert cli.main(["users", "remove", "dana"]) == 0 and store.get("dana") is None
    assert cli.main(["users", "remove", "dana"]) == 2 and "unknown user" in capsys.readouterr().err
    actions = [(r.user, r.payload["action"]) for r in App(load_settings()).audit.records(kind="user")]
    assert actions == [(f"OS user {OS_USER}", a) for a in
                       ("created", "password_changed", "password_changed", "disabled", "enabled", "removed")]


# ---- Audit gaps -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def case_app(tmp_path_factory: pytest.TempPathFactory) -> App:
    """A real App (Chroma, Presidio, the packaged embedder, extractive answers) with two one-file cases, a reviewer
    and two supervisors of case `alpha`."""
    root = tmp_path_factory.mktemp("redteam")
    for case, text in (("alpha", "Officer Grey saw a blue van outside the depot on 3 March 2023. The driver, Tom "
                                 "Hale, used the phone 07700 900123.\n"),
                       ("beta", "A red car was parked in Mill Lane on 4 May 2022.\n")):
        (root / case).mkdir()
        (root / case / "statement.txt").write_text(text)
    settings = load_settings(index_dir=root / "index")
    settings.llm.backend = "extractive"
    settings.access.bcrypt_rounds = 4
    app = App(settings)
    for case in ("alpha", "beta"):
        assert app.ingest([root / case], case, progress=False).ingested
    for name, role in (("rev-a", "reviewer"), ("sup-a", "supervisor"), ("sup-b", "supervisor")):
        app.users.add_user(name, f"{name}-password-1", role)
        app.users.assign(name, "alpha")
    return app


def test_account_changes_and_cli_ingest_are_recorded(dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, "first-secret-1\n")
    assert cli.main(["users", "add", "erin", "--role", "reviewer", "--password-stdin"]) == 0
    assert cli.main(["users", "assign", "erin", "c7"]) == 0
    assert cli.main(["users", "unassign", "erin", "c7"]) == 0
    folder = dirs["prod"].parent / "case-files"
    folder.mkdir()
    (folder / "a.txt").write_text("The van was blue.\n")
    assert cli.main(["ingest", str(folder), "--case", "c7", "--no-progress"]) == 0
    records = App(load_settings()).audit.records()
    seen = [(r.kind, r.case, r.payload.get("action", "")) for r in records]
    assert seen == [("user", "", "created"), ("assignment", "c7", "assigned"), ("assignment", "c7", "unassigned"),
                    ("ingest", "c7", "")]
    assert {r.user for r in records} == {f"OS user {OS_USER}"}
    assert records[-1].payload["via"] == "cli" and records[-1].payload["report"]["ingested"] == ["a.txt"]
    assert "first-secret-1" not in json.dumps([r.to_json() for r in records])  # never a password


def test_views_denials_and_purpose_are_recorded(case_app: App) -> None:
    rev = Session.for_username(case_app, "rev-a")
    answer = rev.ask("alpha", "What colour was the van?", purpose="Op Alpha case review, s.62 check")
    record = case_app.audit.records(kind="answer", user="rev-a")[-1]
    assert record.payload["purpose"] == "Op Alpha case review, s.62 check" and record.payload["question"]
    chunk_id = answer.citations[0].chunk_id if answer.citations else answer.retrieved[0].chunk_id
    assert rev.get_chunk("alpha", chunk_id, context=answer) is not None
    view = case_app.audit.records(kind="view", user="rev-a")[-1]
    assert view.case == "alpha" and view.payload == {"chunk_id": chunk_id, "clear": False}
    for attempt in (lambda: rev.ask("beta", "Which car?"), lambda: rev.get_chunk("beta", "beta:x"),
                    lambda: rev.audit_records()):
        with pytest.raises(AccessDenied):
            attempt()
    denied = case_app.audit.records(kind="denied", user="rev-a")[-3:]
    assert [(d.case, d.payload["action"]) for d in denied] == [("beta", "case"), ("beta", "case"),
                                                               ("", "viewing the audit log")]
    assert case_app.audit.verify().ok
    args = cli.build_parser().parse_args(["timeline", "--case", "beta", "--user", "rev-a"])
    with pytest.raises(AssistantError, match="not assigned"):
        args.func(args, case_app)  # the command line's refusals are recorded too
    record = case_app.audit.records(kind="denied")[-1]
    assert (record.case, record.payload["action"]) == ("beta", "timeline") and record.user.startswith("rev-a (claimed)")


def test_cli_identity_is_the_os_user(case_app: App, capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.build_parser().parse_args(["ask", "--case", "alpha", "--user", "sup-a", "--json",
                                          "--purpose", "duty check", "Who drove the van?"])
    assert cli.cmd_ask(args, case_app) == 0
    record = case_app.audit.records(kind="answer")[-1]
    assert record.user == f"sup-a (claimed) via OS user {OS_USER}" and record.payload["purpose"] == "duty check"
    assert case_app.audit.records(kind="answer", user="sup-a") == []  # nothing is recorded as sup-a himself
    assert json.loads(capsys.readouterr().out)["case"] == "alpha"
    with pytest.raises(AccessDenied, match="own answer"):  # nor can sup-a approve what was asked in his name
        Session.for_username(case_app, "sup-a").review(record.seq, "approved", "")


def test_no_self_approval(case_app: App) -> None:
    sup = Session.for_username(case_app, "sup-a")
    sup.ask("alpha", "Where was the van seen?")
    own = case_app.audit.records(kind="answer", user="sup-a")[-1]
    for decision in ("approved", "flagged"):
        with pytest.raises(AccessDenied, match="cannot review their own answer"):
            sup.review(own.seq, decision, "looks right to me")
    assert not [r for r in case_app.audit.records(kind="review") if r.payload["answer_seq"] == own.seq]
    assert case_app.audit.records(kind="denied", user="sup-a")[-1].payload["action"] == "review own answer"
    other = Session.for_username(case_app, "sup-b").review(own.seq, "approved", "checked against the statement")
    assert other.user == "sup-b" and other.payload["answer_seq"] == own.seq


def _log_with_records(tmp_path: Path) -> AuditLog:
    log = AuditLog(tmp_path / "index" / "audit.sqlite")
    for i in range(5):
        log.append("login", f"user{i}", "", {"ok": True})
    return log


def _raw(log: AuditLog) -> sqlite3.Connection:
    conn = sqlite3.connect(log.path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def _verify(index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out


def test_truncated_tail_fails_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log_with_records(tmp_path)
    conn = _raw(log)
    conn.execute("DELETE FROM audit WHERE seq >= 4")
    conn.close()
    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 1 and "records 4-5 were removed from the end" in out
    with pytest.raises(AssistantError, match="no longer matches its signed checkpoint"):
        log.append("login", "mallory", "", {"ok": True})  # nothing papers over the gap


def test_deleted_log_fails_verify_and_is_not_recreated(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log_with_records(tmp_path)
    log.path.unlink()
    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 1 and "is missing" in out and "checkpoint: seq 5" in out
    assert not log.path.exists()  # opening the app did not recreate an empty log that verifies
    reopened = AuditLog(log.path)
    with pytest.raises(AssistantError, match="missing"):
        reopened.append("login", "mallory", "", {"ok": True})
    with pytest.raises(AssistantError, match="fails verification"):
        from assistant.access.demo import check_audit_at_start

        check_audit_at_start(App(load_settings(index_dir=log.path.parent)))  # `serve` refuses to start


def test_rehashed_edit_fails_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log_with_records(tmp_path)
    keys_dir = log.keys_dir
    assert keys_dir.parent != log.path.parent and (keys_dir / "head.json").exists()  # head kept outside the log
    assert {oct(p.stat().st_mode & 0o777) for p in keys_dir.iterdir()} == {"0o600"}  # key, head, lock
    assert oct(keys_dir.stat().st_mode & 0o777) == "0o700"
    conn = _raw(log)  # edit record 3 and re-hash it and everything after it, as the old unkeyed chain allowed
    rows = conn.execute("SELECT seq, time, kind, user, case_id, payload, prev_hash FROM audit ORDER BY seq").fetchall()
    prev = conn.execute("SELECT hash FROM audit WHERE seq = 2").fetchone()[0]
    for seq, time, kind, user, case, payload, _ in rows[2:]:
        user = "someone-else" if seq == 3 else user
        digest = record_hash(prev, seq, time, kind, user, case, json.loads(payload))
        conn.execute("UPDATE audit SET user = ?, prev_hash = ?, hash = ? WHERE seq = ?", (user, prev, digest, seq))
        prev = digest
    conn.close()
    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 1 and "seq 3: content does not match its hash" in out
    assert "does not match the signed checkpoint" in out


def test_case_export_verifies_on_its_own(case_app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Session.for_username(case_app, "rev-a").ask("alpha", "What colour was the van?")
    out = tmp_path / "alpha.json"
    parse = cli.build_parser().parse_args
    assert admin_cli.run_audit_export(parse(["audit", "export", "--case", "alpha", "-o", str(out)]), case_app) == 0
    check = parse(["audit", "verify-export", str(out)])
    assert admin_cli.run_audit_verify_export(check, case_app) == 0
    assert "export OK: case alpha" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert {r["case"] for r in data["records"]} == {"alpha"} and data["exported_by"] == f"OS user {OS_USER}"
    fingerprint = data["key"]["fingerprint"]
    edited = json.loads(out.read_text())
    edited["records"][0]["user"] = "someone-else"  # any edit after export
    out.write_text(canonical_json(edited))
    assert admin_cli.run_audit_verify_export(check, case_app) == 1
    assert "edited after it was made" in capsys.readouterr().out
    # On another machine (another key, no log at all) it checks against the issuer's fingerprint.
    elsewhere = App(load_settings(index_dir=tmp_path / "other-index"))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    assert admin_cli.run_audit_verify_export(parse(["audit", "verify-export", str(good)]), elsewhere) == 1
    assert "not the expected" in capsys.readouterr().out
    with_fp = parse(["audit", "verify-export", str(good), "--key-fingerprint", fingerprint])
    assert admin_cli.run_audit_verify_export(with_fp, elsewhere) == 0


# ---- Login and sessions ---------------------------------------------------------------------------------------------
def test_password_check_runs_off_the_event_loop(case_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.ui.build import make_auth

    real = case_app.users.authenticate
    threads: list[int] = []

    def spy(username: str, password: str) -> Any:  # the real check, noting which thread ran it
        threads.append(threading.get_ident())
        return real(username, password)

    monkeypatch.setattr(case_app.users, "authenticate", spy)
    auth = make_auth(case_app)
    assert inspect.iscoroutinefunction(auth)  # so Gradio awaits it instead of calling it on its loop
    order: list[str] = []

    async def scenario() -> tuple[bool, int]:
        async def login() -> bool:
            ok = await auth("rev-a", "rev-a-password-1")
            order.append("login checked")
            return ok

        async def another_user() -> None:
            await asyncio.sleep(0)
            order.append("another request served")

        ok, _ = await asyncio.gather(login(), another_user())
        return ok, threading.get_ident()

    ok, loop_thread = asyncio.run(scenario())
    assert ok and threads and loop_thread not in threads
    assert order == ["another request served", "login checked"]  # the loop ran on while bcrypt worked
    assert case_app.audit.records(kind="login", user="rev-a")[-1].payload["ok"] is True


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _checker(app: App, client: list[str], clock: _Clock, calls: list[str],
             monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Awaitable[bool]]:
    real = app.users.authenticate
    monkeypatch.setattr(app.users, "authenticate", lambda u, p: calls.append(u) or real(u, p))
    return make_login_check(app.users, app.audit, app.settings.access, LoginThrottle(app.settings.access, clock),
                            lambda: client[0])


def test_login_flood_backs_off_then_locks_out_per_user(case_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, calls = _Clock(), []
    check = _checker(case_app, ["10.0.0.5"], clock, calls, monkeypatch)

    def login(username: str, password: str) -> bool:
        return asyncio.run(check(username, password))

    async def flood() -> list[bool]:  # 20 wrong passwords at once
        return list(await asyncio.gather(*(check("sup-b", f"guess-{i}") for i in range(20))))

    assert not any(asyncio.run(flood()))
    s = case_app.settings.access
    assert len(calls) <= s.backoff_after + s.max_concurrent_checks - 1  # the rest refused with no bcrypt work
    assert [login("sup-b", f"guess-{i}") for i in range(5)] == [False] * 5 and len(calls) <= 4
    denied = case_app.audit.records(kind="denied", user="sup-b")[-1]
    assert denied.payload["action"] == "login" and "wait" in denied.payload["reason"]
    for _ in range(7):  # a patient attacker, waiting out each back-off
        clock.now += 61
        assert login("sup-b", "another-guess") is False
    clock.now += 61
    assert login("sup-b", "sup-b-password-1") is False  # locked: even the right password is refused
    assert "locked" in case_app.audit.records(kind="denied", user="sup-b")[-1].payload["reason"]
    clock.now += 15 * 60 + 1
    assert login("sup-b", "sup-b-password-1") is True  # the lock-out ends


def test_password_spray_locks_out_the_client(case_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, calls, client = _Clock(), [], ["10.0.0.9"]
    check = _checker(case_app, client, clock, calls, monkeypatch)

    def login(username: str, password: str) -> bool:
        return asyncio.run(check(username, password))

    for i in range(30):  # one guess per username: no user count grows, the client's does
        clock.now += 61
        assert login(f"name{i}", "Spring2024!") is False
    clock.now += 61
    assert login("rev-a", "rev-a-password-1") is False  # this client is locked out
    client[0] = "10.0.0.10"
    assert login("rev-a", "rev-a-password-1") is True  # other clients are not


def test_sessions_expire_when_idle_and_after_the_absolute_limit(case_app: App) -> None:
    clock = _Clock()
    sessions = LoginSessions(case_app.users, case_app.settings.access, clock)
    tokens = TokenMap(sessions)
    tokens["idle-token"] = "rev-a"
    tokens["busy-token"] = "rev-a"
    clock.now += 29 * 60
    assert tokens.get("idle-token") == "rev-a" and sessions.username("busy-token", active=True) == "rev-a"
    clock.now += 2 * 60  # 31 minutes without an action
    assert tokens.get("idle-token") is None and "idle-token" not in tokens
    for _ in range(12 * 6 - 4):  # an action every 10 minutes, up to the 12-hour limit
        clock.now += 10 * 60
        assert sessions.username("busy-token", active=True) == "rev-a"
    clock.now += 10 * 60 + 1
    assert tokens.get("busy-token") is None


def test_password_change_disable_remove_end_sessions(case_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    case_app.users.add_user("gale", "gale-password-1", "reviewer")
    sessions = LoginSessions(case_app.users, case_app.settings.access)
    tokens = TokenMap(sessions)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(case_app.settings.index_dir))
    monkeypatch.setenv("ASSISTANT_ACCESS__BCRYPT_ROUNDS", "4")
    tokens["t1"] = "gale"
    _stdin(monkeypatch, "gale-password-2\n")
    assert cli.main(["users", "passwd", "gale", "--password-stdin"]) == 0  # another process, another App
    assert tokens.get("t1") is None  # the open session ended with the password change
    tokens["t2"] = "gale"
    assert cli.main(["users", "disable", "gale"]) == 0
    assert tokens.get("t2") is None
    with pytest.raises(KeyError):
        tokens["t3"] = "gale"  # a disabled user gets no session
    assert cli.main(["users", "enable", "gale"]) == 0
    tokens["t4"] = "gale"
    assert cli.main(["users", "remove", "gale"]) == 0
    assert tokens.get("t4") is None


def test_results_stream_is_tied_to_the_login(case_app: App) -> None:
    import httpx

    from assistant.llm.runtime import free_port
    from assistant.ui.build import serve

    case_app.settings.ui.port, case_app.settings.ui.auth = free_port(), True
    demo = serve(case_app, prevent_thread_lock=True)
    url = f"http://127.0.0.1:{case_app.settings.ui.port}"
    fn = next(i for i, f in demo.fns.items() if getattr(f, "name", "") == "on_load")
    try:
        with httpx.Client(base_url=url, timeout=60) as alice, httpx.Client(base_url=url, timeout=60) as bob:
            for client, name in ((alice, "rev-a"), (bob, "sup-a")):
                assert client.post("/login", data={"username": name, "password": f"{name}-password-1"}).is_success
            assert case_app.audit.records(kind="login", user="sup-a")[-1].payload["client"] == "127.0.0.1"
            joined = alice.post("/gradio_api/queue/join", json={"data": [], "fn_index": fn, "session_hash": "h-alice",
                                                                "event_data": None, "trigger_id": None})
            assert joined.is_success, joined.text
            stolen = bob.get("/gradio_api/queue/data", params={"session_hash": "h-alice"})
            assert stolen.status_code == 403  # another login cannot read alice's results ...
            forged = bob.post("/gradio_api/queue/join", json={"data": [], "fn_index": fn, "session_hash": "h-alice",
                                                             "event_data": None, "trigger_id": None})
            assert forged.status_code == 403  # ... nor run events in her page session
            own = alice.get("/gradio_api/queue/data", params={"session_hash": "h-alice"})
            assert own.status_code == 200 and "process_completed" in own.text and "Logged in as" in own.text
            Accounts(case_app.users, case_app.audit).passwd("admin-test", "rev-a", "rev-a-password-2")
            again = alice.post("/gradio_api/queue/join", json={"data": [], "fn_index": fn, "session_hash": "h-a2",
                                                               "event_data": None, "trigger_id": None})
            assert again.status_code == 401  # the password change ended her login on the running server
    finally:
        demo.close()
        case_app.users.set_password("rev-a", "rev-a-password-1")
