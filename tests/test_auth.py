"""UserStore: bcrypt passwords, roles, validation, case assignments and access decisions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.access.auth import ALL_CASES, User, UserError, UserStore


@pytest.fixture()
def store(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "users.sqlite", rounds=4)


def test_add_and_authenticate(store: UserStore) -> None:
    created = store.add_user("Reviewer1", "kestrel-review", "reviewer")
    assert created == User("reviewer1", "reviewer", ())
    user = store.authenticate("reviewer1", "kestrel-review")
    assert user is not None and user.username == "reviewer1" and user.role == "reviewer"
    assert store.authenticate(" REVIEWER1 ", "kestrel-review") is not None  # usernames are case-insensitive
    assert store.authenticate("reviewer1", "wrong-password") is None
    assert store.authenticate("reviewer1", "") is None
    assert store.authenticate("nobody", "kestrel-review") is None


def test_passwords_are_bcrypt_hashed(store: UserStore) -> None:
    store.add_user("alice", "correct-horse", "reviewer")
    with sqlite3.connect(store.path) as conn:
        (stored,) = conn.execute("SELECT pw_hash FROM users WHERE username='alice'").fetchone()
    assert bytes(stored).startswith(b"$2b$04$")
    assert b"correct-horse" not in bytes(stored)


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("bob", "long-enough-pw", "superuser", "unknown role"),
        ("bob", "", "reviewer", "must not be empty"),
        ("bob", "   ", "reviewer", "must not be empty"),
        ("bob", "short", "reviewer", "too weak"),
        ("bob", "aaaaaaaaaa", "reviewer", "too weak"),
        ("password1", "Password1", "reviewer", "differ from the username"),
        ("bob", "x" * 40 + "ab" * 20, "reviewer", "too long"),
        ("b", "long-enough-pw", "reviewer", "invalid username"),
        ("bad name", "long-enough-pw", "reviewer", "invalid username"),
    ],
)
def test_validation_errors_are_clear(store: UserStore, username: str, password: str, role: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        store.add_user(username, password, role)
    assert store.get(username) is None or username == "b"


def test_duplicate_user_refused(store: UserStore) -> None:
    store.add_user("carol", "first-password", "supervisor")
    with pytest.raises(UserError, match="already exists"):
        store.add_user("CAROL", "second-password", "reviewer")
    assert store.authenticate("carol", "first-password") is not None


def test_assignments_and_access(store: UserStore) -> None:
    store.add_user("rev", "rev-password", "reviewer")
    store.add_user("sup", "sup-password", "supervisor")
    store.add_user("root", "root-password", "admin")
    assert store.assign("rev", "kestrel").cases == ("kestrel",)
    store.assign("rev", "kestrel")  # idempotent
    store.assign("sup", "heron")
    assert store.cases_for("rev") == ["kestrel"]
    assert store.can_access("rev", "kestrel") and not store.can_access("rev", "heron")
    assert store.can_access("sup", "heron") and not store.can_access("sup", "kestrel")
    assert store.can_access("root", "anything")
    assert store.cases_for("root", ["heron", "kestrel"]) == ["heron", "kestrel"]
    assert store.cases_for("root") == [ALL_CASES]
    assert not store.can_access("ghost", "kestrel")
    assert not store.can_access("rev", "")
    # A stale User snapshot does not keep access once unassigned: the store is asked each time.
    snapshot = store.get("rev")
    assert snapshot is not None
    store.unassign("rev", "kestrel")
    assert not store.can_access(snapshot, "kestrel")
    with pytest.raises(UserError, match="not assigned"):
        store.unassign("rev", "kestrel")
    with pytest.raises(UserError, match="unknown user"):
        store.assign("ghost", "kestrel")
    with pytest.raises(UserError, match="invalid case id"):
        store.assign("rev", "../etc")


def test_list_users_and_password_change(store: UserStore) -> None:
    store.add_user("zed", "zed-password", "reviewer")
    store.add_user("amy", "amy-password", "admin")
    assert [u.username for u in store.list_users()] == ["amy", "zed"]
    store.set_password("zed", "new-zed-password")
    assert store.authenticate("zed", "zed-password") is None
    assert store.authenticate("zed", "new-zed-password") is not None
    store.remove_user("zed")
    assert store.get("zed") is None and store.authenticate("zed", "new-zed-password") is None


def test_user_role_flags() -> None:
    assert User("a", "admin").is_admin and User("a", "admin").can_audit
    assert User("s", "supervisor").can_audit and not User("s", "supervisor").is_admin
    assert not User("r", "reviewer").can_audit


def test_a_store_from_before_disable_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE users (username TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash BLOB NOT NULL,"
                           " created TEXT NOT NULL);")
    store = UserStore(path, rounds=4)
    store.add_user("old-hand", "an-old-password", "reviewer")
    assert store.session_state("old-hand") == (0, False)
    store.set_password("old-hand", "a-new-password")
    assert store.session_state("old-hand") == (1, False)  # the epoch moves: open sessions end
    user = store.set_disabled("old-hand", True)
    assert user.disabled and store.session_state("old-hand") == (2, True)
    assert store.authenticate("old-hand", "a-new-password") is None and store.cases_for("old-hand") == []
