"""Red team, issue 15 ("Accounts", "Audit gaps", "Login and sessions"): each finding replayed against the real
code (the `assistant` entry point, the real UserStore/AuditLog/Session, the real App) and now failing to do harm.

Finding -> test:
  Accounts
  - demo accounts created in whatever ASSISTANT_INDEX_DIR points at -> test_demo_accounts_never_land_in_another_index
  - demo cases re-assigned over an admin's changes on every run -> test_demo_accounts_never_land_in_another_index
  - a published demo password keeps working outside the demo -> test_serve_refuses_while_a_published_password_works
  - no command changes a password or removes a user -> test_users_passwd_disable_remove_from_the_cli
"""

from __future__ import annotations

import io
import os
import pwd
import sqlite3
from pathlib import Path

import pytest

from assistant.access.auth import UserStore
from assistant.access.demo import DEMO_USERS, check_serve_allowed
from assistant.app import App
from assistant.cli import main as cli
from assistant.config import load_settings
from assistant.errors import AssistantError

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
