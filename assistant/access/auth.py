"""Users, bcrypt-hashed passwords, roles and per-case assignments, in one SQLite file.

Access is always decided from the store at call time (`can_access`), never from a `User` snapshot, so revoking an
assignment takes effect on the next request.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast, get_args

import bcrypt

from assistant.errors import AssistantError

log = logging.getLogger(__name__)

Role = Literal["reviewer", "supervisor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
AUDIT_ROLES: frozenset[str] = frozenset({"supervisor", "admin"})
ALL_CASES = "*"  # what `cases_for` returns for an admin when no case list is passed

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_CASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    pw_hash BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assignments (
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    PRIMARY KEY (username, case_id)
);
"""


class UserError(AssistantError):
    """Invalid user input: unknown role, duplicate or unknown user, weak password, bad case id."""


@dataclass(frozen=True)
class User:
    """A snapshot of one user. `cases` are the assigned cases at load time (admins may see every case)."""

    username: str
    role: str
    cases: tuple[str, ...] = ()
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_audit(self) -> bool:
        return self.role in AUDIT_ROLES


def validate_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME_RE.match(name):
        raise UserError(
            f"invalid username {username!r}: use 2-32 characters a-z, 0-9, '.', '_' or '-', starting with a letter or "
            "digit"
        )
    return name


def validate_case(case: str) -> str:
    case_id = (case or "").strip()
    if not _CASE_RE.match(case_id):
        raise UserError(f"invalid case id {case!r}: use 1-64 characters A-Z, a-z, 0-9, '_', '.' or '-'")
    return case_id


def validate_role(role: str) -> Role:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return cast(Role, role)


def validate_password(password: str, username: str = "") -> None:
    if not password or not password.strip():
        raise UserError("password must not be empty")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password too weak: use at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UserError(f"password too long: at most {MAX_PASSWORD_BYTES} bytes")
    if username and password.strip().lower() == username.lower():
        raise UserError("password too weak: it must differ from the username")
    if len(set(password)) < 4:
        raise UserError("password too weak: use at least 4 different characters")


class UserStore:
    """SQLite-backed users. Safe to share between threads: each call opens its own connection."""

    def __init__(self, path: Path | str, *, rounds: int = 12) -> None:
        self.path = Path(path)
        self.rounds = rounds
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
            columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(users)")}
            for column in ("disabled", "epoch"):  # stores created before accounts could be disabled or revoked
                if column not in columns:
                    conn.execute(f"ALTER TABLE users ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
        self._dummy_hash = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=self.rounds))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:
                yield conn
        finally:
            conn.close()

    # --- users -----------------------------------------------------------------------------------------------------
    def add_user(self, username: str, password: str, role: str) -> User:
        name = validate_username(username)
        valid_role = validate_role(role)
        validate_password(password, name)
        pw_hash = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=self.rounds))
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._connect() as conn:
            try:
                conn.execute("INSERT INTO users (username, role, pw_hash, created) VALUES (?, ?, ?, ?)",
                             (name, valid_role, pw_hash, created))
            except sqlite3.IntegrityError as exc:
                raise UserError(f"user {name!r} already exists") from exc
        log.info("user_added username=%s role=%s", name, valid_role)
        return User(name, valid_role, ())

    def set_password(self, username: str, password: str) -> None:
        name = self._require(username).username
        validate_password(password, name)
        pw_hash = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=self.rounds))
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE users SET pw_hash = ?, epoch = epoch + 1 WHERE username = ?", (pw_hash, name))
        log.info("password_changed username=%s", name)

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable (or re-enable) an account: a disabled user cannot log in and may access nothing; the epoch
        moves on, so every login session of the user ends."""
        name = self._require(username).username
        with self._lock, self._connect() as conn:
            conn.execute("UPDATE users SET disabled = ?, epoch = epoch + 1 WHERE username = ?", (int(disabled), name))
        log.info("user_disabled username=%s disabled=%s", name, disabled)
        return self._require(name)

    def session_state(self, username: str) -> tuple[int, bool] | None:
        """(epoch, disabled) of a user, or None when there is no such user. The epoch changes on every password
        change and disable, so a login session that remembers it can tell it has been revoked."""
        with self._connect() as conn:
            row = conn.execute("SELECT epoch, disabled FROM users WHERE username = ?",
                               ((username or "").strip().lower(),)).fetchone()
        return (int(row[0]), bool(row[1])) if row else None

    def meta(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None. Unknown users cost the same bcrypt check."""
        name = (username or "").strip().lower()
        with self._connect() as conn:
            row = conn.execute("SELECT pw_hash, disabled FROM users WHERE username = ?", (name,)).fetchone()
        candidate = (password or "").encode("utf-8")[:MAX_PASSWORD_BYTES]
        if row is None:
            bcrypt.checkpw(candidate, self._dummy_hash)
            log.info("login_failed reason=unknown_user")
            return None
        if not password or not bcrypt.checkpw(candidate, bytes(row[0])):
            log.info("login_failed reason=bad_password username=%s", name)
            return None
        if row[1]:
            log.info("login_failed reason=disabled username=%s", name)
            return None
        return self.get(name)

    def get(self, username: str | None) -> User | None:
        name = (username or "").strip().lower()
        if not name:
            return None
        with self._connect() as conn:
            row = conn.execute("SELECT username, role, disabled FROM users WHERE username = ?", (name,)).fetchone()
            if row is None:
                return None
            cases = [r[0] for r in conn.execute(
                "SELECT case_id FROM assignments WHERE username = ? ORDER BY case_id", (name,))]
        return User(str(row[0]), str(row[1]), tuple(cases), bool(row[2]))

    def list_users(self) -> list[User]:
        with self._connect() as conn:
            names = [str(r[0]) for r in conn.execute("SELECT username FROM users ORDER BY username")]
        users = [self.get(n) for n in names]
        return [u for u in users if u is not None]

    def remove_user(self, username: str) -> None:
        name = self._require(username).username
        with self._lock, self._connect() as conn:
            conn.execute("DELETE FROM users WHERE username = ?", (name,))
        log.info("user_removed username=%s", name)

    # --- case assignments --------------------------------------------------------------------------------------------
    def assign(self, username: str, case: str) -> User:
        user = self._require(username)
        case_id = validate_case(case)
        with self._lock, self._connect() as conn:
            conn.execute("INSERT OR IGNORE INTO assignments (username, case_id) VALUES (?, ?)",
                         (user.username, case_id))
        log.info("case_assigned username=%s case=%s", user.username, case_id)
        return self._require(user.username)

    def unassign(self, username: str, case: str) -> User:
        user = self._require(username)
        case_id = (case or "").strip()
        if case_id not in user.cases:
            raise UserError(f"user {user.username!r} is not assigned to case {case_id!r}")
        with self._lock, self._connect() as conn:
            conn.execute("DELETE FROM assignments WHERE username = ? AND case_id = ?", (user.username, case_id))
        log.info("case_unassigned username=%s case=%s", user.username, case_id)
        return self._require(user.username)

    def cases_for(self, user: User | str, all_cases: Sequence[str] | None = None) -> list[str]:
        """Cases the user may open, from the store. Admins get `all_cases` (or [ALL_CASES] when none is given)."""
        current = self.get(user.username if isinstance(user, User) else user)
        if current is None or current.disabled:
            return []
        if current.is_admin:
            return sorted(set(all_cases)) if all_cases is not None else [ALL_CASES]
        return list(current.cases)

    def can_access(self, user: User | str, case: str) -> bool:
        """Decided from the store now: an unknown, deleted or disabled user may access nothing."""
        current = self.get(user.username if isinstance(user, User) else user)
        if current is None or current.disabled or not case:
            return False
        return current.is_admin or case in current.cases

    def _require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise UserError(f"unknown user {username!r}")
        return user
