"""What `serve` checks before it starts: the demo accounts' published passwords, and the audit log.

The demo accounts are created only in the demo index (`settings.demo_index_dir`, what `assistant demo` and
`make run` use), never in whatever ASSISTANT_INDEX_DIR points at, and only once: a later `assistant demo` leaves an
admin's changes (a removed user, an unassigned case, a new password) alone. Outside the demo index, `serve` refuses
to start while any demo account still accepts its published password. It also refuses a log that fails `audit
verify` (records edited, removed from the end, or the whole log deleted), unless told to start anyway (recorded).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from assistant.access.audit import AuditLog
from assistant.access.auth import UserStore
from assistant.config import Settings
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

# The demo accounts documented in the README (the passwords are public: demo use only).
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("reviewer1", "kestrel-review", "reviewer", ("kestrel",)),
    ("reviewer2", "heron-review", "reviewer", ("heron",)),
    ("supervisor1", "kestrel-audit", "supervisor", ("kestrel",)),
    ("supervisor2", "plover-audit", "supervisor", ("plover",)),
    ("admin", "kestrel-admin", "admin", ()),
)
SEEDED_KEY = "demo_users_seeded"
DEMO_ACTOR = "demo setup"


class DemoApp(Protocol):
    settings: Settings

    @property
    def audit(self) -> AuditLog: ...

    @property
    def users(self) -> UserStore: ...


def _same(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def is_demo_index(settings: Settings) -> bool:
    """Whether the index in use is the demo index (the only place demo accounts may exist)."""
    return _same(settings.index_dir, settings.demo_index_dir)


def seed_demo_users(app: DemoApp) -> list[str]:
    """Create the demo accounts in the demo index, once. Returns the usernames created ([] on later runs)."""
    s = app.settings
    if not is_demo_index(s):
        raise AssistantError(f"demo accounts are only created in the demo index {s.demo_index_dir} "
                             f"(ASSISTANT_DEMO_INDEX_DIR), not in {s.index_dir}: use `assistant demo`")
    seeded = app.users.meta(SEEDED_KEY)
    if seeded:
        log.info("demo_users_already_seeded at=%s", seeded)
        return []
    created = []
    for username, password, role, cases in DEMO_USERS:
        if app.users.get(username) is not None:
            continue
        app.users.add_user(username, password, role)
        app.audit.append("user", DEMO_ACTOR, "", {"action": "created", "target": username, "role": role})
        for case in cases:
            app.users.assign(username, case)
            app.audit.append("assignment", DEMO_ACTOR, case, {"action": "assigned", "target": username})
        created.append(username)
    app.users.set_meta(SEEDED_KEY, datetime.now(UTC).isoformat(timespec="seconds"))
    log.info("demo_users_created count=%d", len(created))
    return created


def published_passwords_in_use(users: UserStore) -> list[str]:
    """Demo accounts (present and enabled) that still accept their published password."""
    return [name for name, password, _, _ in DEMO_USERS
            if users.get(name) is not None and users.authenticate(name, password) is not None]


def check_serve_allowed(app: DemoApp) -> None:
    """Refuse to serve a non-demo index while a published demo password works (AssistantError names the account
    and the command that changes it)."""
    if is_demo_index(app.settings):
        log.warning("serving the demo index %s: demo accounts with published passwords", app.settings.index_dir)
        return
    in_use = published_passwords_in_use(app.users)
    if in_use:
        names = ", ".join(in_use)
        raise AssistantError(
            f"refusing to serve {app.settings.index_dir}: account(s) {names} still accept the demo password "
            f"published in the README. Change it with `assistant users passwd {in_use[0]}` or disable the account "
            f"with `assistant users disable {in_use[0]}` (or `assistant serve --demo` for the demo index)")


def check_audit_at_start(app: DemoApp) -> None:
    """Verify the audit log (chain and signed checkpoint) before serving; refuse with the first problem."""
    result = app.audit.verify()
    if result.ok:
        log.info("audit_verified_at_start records=%d head=%d", result.records, result.head_seq)
        return
    if not app.settings.access.allow_unverified_start:
        raise AssistantError(f"refusing to serve: the audit log fails verification ({result.problems[0]}); "
                             f"`assistant audit verify` lists all {len(result.problems)} problem(s)")
    log.error("audit_unverified_start problems=%d (allow_unverified_start is set; appends stay refused while the "
              "head does not match its checkpoint)", len(result.problems))
