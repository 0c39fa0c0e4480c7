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

from assistant.access.accounts import Accounts, cli_identity
from assistant.access.audit import AuditLog
from assistant.access.auth import ROLES, UserStore
from assistant.access.demo import DEMO_USERS, seed_demo_users
from assistant.errors import AssistantError
from assistant.perms import write_private_text

__all__ = ["DEMO_USERS", "register", "seed_demo_users"]  # the demo accounts live in assistant.access.demo

log = logging.getLogger(__name__)

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
    passwd = u_sub.add_parser("passwd", help="change a user's password (ends the user's login sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    passwd.set_defaults(func=run_users_passwd)
    for name, fn, text in (("disable", run_users_disable, "stop a user logging in (ends their sessions)"),
                           ("enable", run_users_enable, "let a disabled user log in again"),
                           ("remove", run_users_remove, "delete a user and their case assignments")):
        p = u_sub.add_parser(name, help=text)
        p.add_argument("username")
        p.set_defaults(func=fn)
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
    exp.add_argument("--user", default="", help="a name to record, as a claim beside the OS user running this")
    exp.set_defaults(func=run_audit_export)
    vexp = a_sub.add_parser("verify-export", help="check a JSON export on its own (signature, case, order)")
    vexp.add_argument("file", type=Path)
    vexp.add_argument("--key-fingerprint", default="", help="the issuing installation's key (printed by its "
                      "`assistant audit verify`); default: this installation's key")
    vexp.set_defaults(func=run_audit_verify_export)


def _accounts(app: AdminApp) -> Accounts:
    return Accounts(app.users, app.audit)


def _read_password(args: argparse.Namespace) -> str:
    """From --password (add only), the first stdin line (--password-stdin), or asked twice without echo."""
    if getattr(args, "password", None):
        return str(args.password)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {args.username}: ")
    if first != getpass.getpass("Repeat password: "):
        raise AssistantError("passwords do not match")
    return first


def run_users_add(args: argparse.Namespace, app: AdminApp) -> int:
    user = _accounts(app).add(cli_identity(), args.username, _read_password(args), args.role, tuple(args.case))
    print(f"added {user.role} {user.username}" + (f" (cases: {', '.join(user.cases)})" if user.cases else ""))
    return 0


def run_users_list(args: argparse.Namespace, app: AdminApp) -> int:
    users = app.users.list_users()
    if getattr(args, "json", False):
        print(json.dumps([{"username": u.username, "role": u.role, "cases": list(u.cases), "disabled": u.disabled}
                          for u in users]))
        return 0
    for u in users:
        cases = "(all cases)" if u.is_admin else (", ".join(u.cases) or "-")
        print(f"{u.username:<20} {u.role:<11} {cases}{'  (disabled)' if u.disabled else ''}")
    return 0


def run_users_passwd(args: argparse.Namespace, app: AdminApp) -> int:
    if app.users.get(args.username) is None:
        raise AssistantError(f"unknown user {args.username!r}")
    _accounts(app).passwd(cli_identity(), args.username, _read_password(args))
    print(f"password changed for {args.username.strip().lower()}; their login sessions end")
    return 0


def run_users_disable(args: argparse.Namespace, app: AdminApp) -> int:
    user = _accounts(app).disable(cli_identity(), args.username)
    print(f"disabled {user.username}; their login sessions end")
    return 0


def run_users_enable(args: argparse.Namespace, app: AdminApp) -> int:
    user = _accounts(app).disable(cli_identity(), args.username, disabled=False)
    print(f"enabled {user.username}")
    return 0


def run_users_remove(args: argparse.Namespace, app: AdminApp) -> int:
    _accounts(app).remove(cli_identity(), args.username)
    print(f"removed {args.username.strip().lower()}")
    return 0


def run_users_assign(args: argparse.Namespace, app: AdminApp) -> int:
    user = _accounts(app).assign(cli_identity(), args.username, args.case)
    print(f"{user.username}: {', '.join(user.cases)}")
    return 0


def run_users_unassign(args: argparse.Namespace, app: AdminApp) -> int:
    user = _accounts(app).unassign(cli_identity(), args.username, args.case)
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
    for note in result.notes:  # what a crash left (never tampering): said every time, never silent
        print(f"note: {note}")
    if result.ok:
        print(f"audit log OK: {result.records} records, head matches the signed checkpoint")
        print(f"head {result.head_seq}:{result.head_hash}")
        if app.audit.keys is not None:
            print(f"signing key {app.audit.keys.fingerprint}")
        return 0
    print(f"audit log FAILED verification: {len(result.problems)} problem(s)")
    for problem in result.problems:
        print(f"  - {problem}")
    return 1


def run_audit_verify_export(args: argparse.Namespace, app: AdminApp) -> int:
    from assistant.access.export import verify_export

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"{args.file}: cannot read ({exc})") from exc
    check = verify_export(text, app.audit.keys, args.key_fingerprint)
    if check.ok:
        print(f"{args.file}: export OK: case {check.case}, {check.records} records, signed by key {check.fingerprint}")
        return 0
    print(f"{args.file}: export FAILED verification: {len(check.problems)} problem(s)")
    for problem in check.problems:
        print(f"  - {problem}")
    return 1


def run_audit_export(args: argparse.Namespace, app: AdminApp) -> int:
    who = cli_identity(args.user)
    text = app.audit.export(args.case, args.fmt, exported_by=who)
    app.audit.append("export", who, args.case, {"format": args.fmt, "bytes": len(text.encode()),
                                                      "via": "cli"})
    if args.output:
        write_private_text(args.output, text)  # 0600: an export holds names and questions
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0
