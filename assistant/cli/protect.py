"""`assistant protect`: mark protected persons of a case (victims, child witnesses), whose identifiers roles without
clearance see masked everywhere; registered from assistant/cli/main.py by `register(sub)`. Audited as the OS user,
with counts and a hash, never the identifiers themselves."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.pii.protected import KINDS, ProtectedError, ProtectedPerson, load_persons, read_persons_file

if TYPE_CHECKING:
    from assistant.app import App


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser("protect", help="mark a protected person of a case (masked for roles without clearance), "
                                        "or list them")
    pr.add_argument("--case", required=True)
    pr.add_argument("--name", action="append", default=[], help="full name (repeatable)")
    pr.add_argument("--alias", action="append", default=[], help="another name used (repeatable)")
    pr.add_argument("--phone", action="append", default=[], help="phone number in any format (repeatable)")
    pr.add_argument("--address", action="append", default=[], help="address or street (repeatable)")
    pr.add_argument("--dob", action="append", default=[], help="date of birth, DD/MM/YYYY or YYYY-MM-DD")
    pr.add_argument("--handle", action="append", default=[], help="social-media handle (repeatable)")
    pr.add_argument("--from-file", type=Path, default=None,
                    help='JSON: [{"names": [...], "aliases": [...], "phones": [...], ...}, ...]')
    pr.add_argument("--list", action="store_true", help="print the case's protected persons (JSON)")
    pr.set_defaults(func=run_protect)


def protect(app: App, case: str, persons: tuple[ProtectedPerson, ...], via: str) -> int:
    """Add `persons` to the case and audit it as the OS user running the command."""
    from assistant.access.accounts import cli_identity
    from assistant.pii.protected import protect as record

    return record(app.settings.index_dir, app.audit, cli_identity(), case, persons, via)


def run_protect(args: argparse.Namespace, app: App) -> int:
    settings_dir = app.settings.index_dir
    if args.list:
        print(json.dumps([{k: list(getattr(p, k)) for k in KINDS} for p in load_persons(settings_dir, args.case)],
                         ensure_ascii=False, indent=1))
        return 0
    persons: tuple[ProtectedPerson, ...] = read_persons_file(args.from_file) if args.from_file else ()
    given = {"names": args.name, "aliases": args.alias, "phones": args.phone, "addresses": args.address,
             "dobs": args.dob, "handles": args.handle}
    if any(given.values()):
        persons += (ProtectedPerson.from_json(given, "command line"),)
    if not persons:
        raise ProtectedError("nothing to protect: give --name/--alias/--phone/--address/--dob/--handle or --from-file")
    total = protect(app, args.case, persons, "cli")
    print(f"case {args.case}: {total} protected person(s)")
    return 0
