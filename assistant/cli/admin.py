"""`assistant users ...` and `assistant audit ...` subcommands, plus the documented demo users.

Each subcommand sets `func=run_X` on its parser; the entry point calls `args.func(args, app)` and exits with the
returned code. Errors a user can fix raise `AssistantError`, which the entry point turns into exit code 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path
from typing import Protocol

from assistant.access.audit import AuditLog
from assistant.access.auth import ROLES, UserStore
from assistant.errors import AssistantError
from assistant.perms import write_private_text

log = logging.getLogger(__name__)

# The demo accounts documented in the README (the passwords are public: demo use only).
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("reviewer1", "kestrel-review", "reviewer", ("kestrel",)),
    ("reviewer2", "heron-review", "reviewer", ("heron",)),
    ("supervisor1", "kestrel-audit", "supervisor", ("kestrel",)),
    ("supervisor2", "plover-audit", "supervisor", ("plover",)),
    ("admin", "kestrel-admin", "admin", ()),
)


class AdminApp(Protocol):
    @property
    def audit(self) -> AuditLog: ...

    @property
    def users(self) -> UserStore: ...


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = subparsers.add_parser("users", help="manage users and case assignments")
    u_sub = users.add_subparsers(dest="users_command", required=True)
    add = u_sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password", help="the password (visible in shell history: prefer the prompt or stdin)")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    add.add_argument("--case", action="append", default=[], help="assign a case (repeatable)")
    add.set_defaults(func=run_users_add)
    lst = u_sub.add_parser("list", help="list users, roles and cases")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=run_users_list)
    for name, fn, text in (("assign", run_users_assign, "give a user access to a case"),
                           ("unassign", run_users_unassign, "remove a user's access to a case")):
        p = u_sub.add_parser(name, help=text)
        p.add_argument("username")
        p.add_argument("case")
        p.set_defaults(func=fn)

    audit = subparsers.add_parser("audit", help="check or export the tamper-evident audit log")
    a_sub = audit.add_subparsers(dest="audit_command", required=True)
    ver = a_sub.add_parser("verify", help="recompute the hash chain; exit 1 on any problem")
    ver.add_argument("--expect-head", metavar="SEQ:HASH", default="",
                     help="the head printed by an earlier verify, to detect removal of the newest records")
    ver.set_defaults(func=run_audit_verify)
    exp = a_sub.add_parser("export", help="export one case's audit records")
    exp.add_argument("--case", required=True)
    exp.add_argument("--format", dest="fmt", choices=("json", "csv"), default="json")
    exp.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    exp.add_argument("--user", default="cli", help="who is exporting (recorded in the log)")
    exp.set_defaults(func=run_audit_export)


def _read_password(args: argparse.Namespace) -> str:
    if args.password:
        return str(args.password)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {args.username}: ")
    if first != getpass.getpass("Repeat password: "):
        raise AssistantError("passwords do not match")
    return first


def run_users_add(args: argparse.Namespace, app: AdminApp) -> int:
    user = app.users.add_user(args.username, _read_password(args), args.role)
    for case in args.case:
        user = app.users.assign(user.username, case)
    print(f"added {user.role} {user.username}" + (f" (cases: {', '.join(user.cases)})" if user.cases else ""))
    return 0


def run_users_list(args: argparse.Namespace, app: AdminApp) -> int:
    users = app.users.list_users()
    if getattr(args, "json", False):
        print(json.dumps([{"username": u.username, "role": u.role, "cases": list(u.cases)} for u in users]))
        return 0
    for u in users:
        cases = "(all cases)" if u.is_admin else (", ".join(u.cases) or "-")
        print(f"{u.username:<20} {u.role:<11} {cases}")
    return 0


def run_users_assign(args: argparse.Namespace, app: AdminApp) -> int:
    user = app.users.assign(args.username, args.case)
    print(f"{user.username}: {', '.join(user.cases)}")
    return 0


def run_users_unassign(args: argparse.Namespace, app: AdminApp) -> int:
    user = app.users.unassign(args.username, args.case)
    print(f"{user.username}: {', '.join(user.cases) or '-'}")
    return 0


def run_audit_verify(args: argparse.Namespace, app: AdminApp) -> int:
    expected: tuple[int, str] | None = None
    if getattr(args, "expect_head", ""):
        seq, _, digest = str(args.expect_head).partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise AssistantError("--expect-head must look like SEQ:HASH (64 hex digits)")
        expected = (int(seq), digest)
    result = app.audit.verify(expected_head=expected)
    if result.ok:
        print(f"audit log OK: {result.records} records")
        print(f"head {result.head_seq}:{result.head_hash}")
        return 0
    print(f"audit log FAILED verification: {len(result.problems)} problem(s)")
    for problem in result.problems:
        print(f"  - {problem}")
    return 1


def run_audit_export(args: argparse.Namespace, app: AdminApp) -> int:
    text = app.audit.export(args.case, args.fmt)
    app.audit.append("export", args.user, args.case, {"format": args.fmt, "bytes": len(text.encode()),
                                                      "via": "cli"})
    if args.output:
        write_private_text(args.output, text)  # 0600: an export holds names and questions
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def seed_demo_users(app: AdminApp) -> None:
    """Create the documented demo users if absent (existing users and their passwords are left alone)."""
    for username, password, role, cases in DEMO_USERS:
        if app.users.get(username) is None:
            app.users.add_user(username, password, role)
            log.info("demo_user_created username=%s role=%s", username, role)
        for case in cases:
            app.users.assign(username, case)
