"""Account changes, each recorded in the audit log with who made it: add, password, disable/enable, remove, case
(un)assignment. The UI's Session and the `assistant users` CLI both go through `Accounts`, so neither can change an
account without a record.

Who the CLI is: the operating-system user running it (`cli_identity`), read from the process's effective uid, not
from an environment variable. A name given on the command line (`--user X`) is only ever recorded as a claim:
"X (claimed) via OS user Y".
"""

from __future__ import annotations

import logging
import os
import pwd

from assistant.access.audit import AuditLog
from assistant.access.auth import User, UserError, UserStore, validate_case

log = logging.getLogger(__name__)

# The passwords the README publishes for the demo accounts; refused for every account made or changed here.
PUBLISHED_PASSWORDS: frozenset[str] = frozenset(
    {"kestrel-review", "heron-review", "kestrel-audit", "plover-audit", "kestrel-admin"})


def os_user() -> str:
    """The operating-system account running this process (effective uid; $USER is not trusted)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def cli_identity(claimed: str | None = None) -> str:
    """What the audit log records for a command-line action: the OS user, and a claimed name only as a claim."""
    base = f"OS user {os_user()}"
    name = (claimed or "").strip()
    return f"{name} (claimed) via {base}" if name and name != "cli" else base


def check_not_published(password: str) -> None:
    if password in PUBLISHED_PASSWORDS:
        raise UserError("that password is published in the README for the demo accounts: choose another")


class Accounts:
    """Audited account administration over the user store."""

    def __init__(self, users: UserStore, audit: AuditLog) -> None:
        self.users = users
        self.audit = audit

    def _record(self, actor: str, action: str, target: str, case: str = "", **extra: str) -> None:
        kind = "assignment" if case else "user"
        self.audit.append(kind, actor, case, {"action": action, "target": target, **extra})

    def add(self, actor: str, username: str, password: str, role: str, cases: tuple[str, ...] = ()) -> User:
        check_not_published(password)
        user = self.users.add_user(username, password, role)
        self._record(actor, "created", user.username, role=user.role)
        for case in cases:
            user = self.assign(actor, user.username, case)
        return user

    def passwd(self, actor: str, username: str, password: str) -> None:
        """Change a password; every login session of that user ends (the store's epoch moves on)."""
        check_not_published(password)
        self.users.set_password(username, password)
        self._record(actor, "password_changed", username.strip().lower())

    def disable(self, actor: str, username: str, disabled: bool = True) -> User:
        user = self.users.set_disabled(username, disabled)
        self._record(actor, "disabled" if disabled else "enabled", user.username)
        return user

    def remove(self, actor: str, username: str) -> None:
        user = self.users.get(username)
        if user is None:
            raise UserError(f"unknown user {username!r}")
        self.users.remove_user(user.username)
        self._record(actor, "removed", user.username, role=user.role)

    def assign(self, actor: str, username: str, case: str) -> User:
        user = self.users.assign(username, case)
        self._record(actor, "assigned", user.username, validate_case(case))
        return user

    def unassign(self, actor: str, username: str, case: str) -> User:
        user = self.users.unassign(username, case)
        self._record(actor, "unassigned", user.username, case.strip())
        return user
