"""Admin tab handlers: ingest into a case, translate its untranslated messages, add users, assign and unassign
cases."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from assistant.access.auth import UserError
from assistant.access.session import ProgressFn, Session
from assistant.ui.render import esc, md_text

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)

USER_HEADERS = ["username", "role", "cases"]


def ingest(session: Session, case: str, folder: str = "", uploads: Sequence[str | Path] | None = None,
           on_progress: ProgressFn | None = None) -> str:
    """Ingest a server-side folder and/or uploaded files into `case`. Returns a Markdown summary."""
    paths: list[Path] = []
    if folder and folder.strip():
        session.require_admin("ingesting files")  # a non-admin is refused as such before the folder is looked at
        paths.append(server_folder(session, case, folder.strip()))
    sent = [Path(str(u)) for u in (uploads or [])]
    if not paths and not sent:
        raise UserError("give a folder path or upload files to ingest")
    try:
        report = session.ingest(paths + sent, case, on_progress=on_progress)
    finally:
        _delete_uploads(sent)  # the index keeps what it needs (content hash, origin "upload"); success or failure
    return "**Ingest finished** for case `" + esc(case.strip()) + "`\n\n" + _report_markdown(report)


def server_folder(session: Session, case: str, folder: str) -> Path:
    """`folder` resolved (`~`, `..`, symlinks) when it lies inside one of the `ui.ingest_roots`; otherwise a
    UserError naming the folder and the reason, audited as a denial. The CLI is not limited (the index's owner)."""
    roots = [Path(os.path.realpath(Path(r).expanduser())) for r in session.app.settings.ui.ingest_roots if r.strip()]
    if not roots:
        _refuse(session, case, f"folder {folder!r} refused: ingesting a server folder from the browser is off; an "
                               "operator enables it for chosen folders with the setting ui.ingest_roots "
                               "(ASSISTANT_UI__INGEST_ROOTS='[\"/srv/cases\"]'); upload the files instead")
    real = Path(os.path.realpath(Path(folder).expanduser()))
    if not any(real.is_relative_to(root) for root in roots):
        _refuse(session, case, f"folder {folder!r} refused: it resolves to {real.as_posix()!r}, outside the "
                               f"configured ingest roots ({', '.join(r.as_posix() for r in roots)}; setting "
                               "ui.ingest_roots)")
    if not real.exists():
        raise UserError(f"folder {folder!r} does not exist on the server")
    return real


def _refuse(session: Session, case: str, message: str) -> NoReturn:
    session.deny(message, "ingest folder", case.strip())  # the "denied" audit record (who, what, which case)
    raise UserError(message)


def _delete_uploads(files: Sequence[Path]) -> None:
    """Delete uploaded temp files, only those inside Gradio's upload folder (never a server folder's file), and
    their per-upload folder when it is left empty."""
    from gradio.utils import get_upload_folder

    base, deleted = Path(os.path.realpath(get_upload_folder())), 0
    for file in files:
        real = Path(os.path.realpath(file))
        if real == base or not real.is_relative_to(base) or not real.is_file():
            continue
        try:
            real.unlink()
            deleted += 1
            if real.parent != base and not any(real.parent.iterdir()):
                real.parent.rmdir()
        except OSError as exc:
            log.warning("upload_delete_failed reason=%s", type(exc).__name__)
    if files:
        log.info("uploads_deleted files=%d of=%d", deleted, len(files))


_ROWS = (("ingested", "indexed"), ("unchanged", "unchanged since the last ingest (skipped)"),
         ("not_evidence", "not evidence (the folder's README / notes about the export): not indexed, never cited"),
         ("protected_persons_files", "protected-persons file applied: its persons are masked for roles without "
                                     "clearance; not evidence, never indexed"))


def _cell(text: object) -> str:
    """Evidence-derived text (file names, reasons) shown literally in a Markdown table cell."""
    return md_text(" ".join(str(text).split()))


def _report_markdown(report: Any) -> str:
    """The ingest report as a table, one row per file (result and reason), then the totals."""
    to_json = getattr(report, "to_json", None)
    data = to_json() if callable(to_json) else report
    if not isinstance(data, dict):
        return f"```\n{report}\n```"  # a code block is shown literally: no escaping needed
    rows = [(_cell(src), _cell(result)) for key, result in _ROWS for src in data.get(key, []) or []]
    rows += [(_cell(f.get("source", "")), f"**not ingested**: {_cell(f.get('reason', ''))}")
             for f in data.get("failed", []) or [] if isinstance(f, dict)]
    rows += [(_cell(n.get("source", "")), f"note: {_cell(n.get('note', ''))}") for n in data.get("notes", []) or []
             if isinstance(n, dict)]
    table = ["| File | Result |", "|---|---|", *(f"| {src} | {result} |" for src, result in rows)]
    totals = (f"{len(data.get('ingested', []) or [])} file(s) indexed into {data.get('chunks', 0)} passage(s), "
              f"{len(data.get('unchanged', []) or [])} unchanged, {len(data.get('failed', []) or [])} not ingested, "
              f"{len(data.get('not_evidence', []) or [])} not evidence, "
              f"{len(data.get('protected_persons_files', []) or [])} protected-persons file(s) applied.")
    return "\n".join(table) + "\n\n" + totals


def user_rows(session: Session) -> list[list[str]]:
    return [[u.username, u.role, ", ".join(u.cases) or ("(all)" if u.is_admin else "-")]
            for u in session.list_users()]


def add_user(session: Session, username: str, password: str, role: str, case: str = "") -> str:
    if case and case.strip():
        session.known_case(case)  # refused before the user is created, so nothing is half done
    user = session.add_user(username, password, role)
    if case and case.strip():
        session.assign(user.username, case.strip())
    return f"Added {user.role} `{esc(user.username)}`" + (f", assigned to `{esc(case.strip())}`." if case else ".")


def change_assignment(session: Session, username: str, case: str, action: str = "assign") -> str:
    if action == "assign":
        user = session.assign(username, case)
    elif action == "unassign":
        user = session.unassign(username, case)
    else:
        raise UserError(f"unknown action {action!r}: assign or unassign")
    return f"`{esc(user.username)}` now has: {esc(', '.join(user.cases) or 'no cases')}."


def _app(session: Session) -> App:
    from assistant.app import App

    if not isinstance(session.app, App):
        raise UserError("translation needs the full application (its index and model backend)")
    return session.app


def translation_status(session: Session, case: str, lang: str = "") -> str:
    """What `translate` would do: untranslated messages per language, and why a language is not translated by
    default (its measured chrF is below the threshold, or was never measured for the model)."""
    from assistant.translate.action import pending

    case_id = session.known_case(case, "translating messages")
    model, langs = pending(_app(session), case_id, lang)
    if not langs:
        return f"Case `{esc(case_id)}` holds no untranslated messages" + (f" in `{esc(lang)}`." if lang else ".")
    rows = [f"| {esc(code)} | {n} | {'**not translated by default**: ' + _cell(why) if why else 'will be translated'} |"
            for code, (n, why) in langs.items()]
    return (f"Model `{esc(model)}`\n\n| Language | Untranslated | Action |\n|---|---|---|\n" + "\n".join(rows))


def translate(session: Session, case: str, lang: str = "", force: bool = False,
              on_progress: Callable[[int, int], None] | None = None) -> str:
    """Machine-translate the case's untranslated messages (the code of `assistant translate`), audited as this admin.
    Languages below the chrF threshold are left untranslated, with the reason, unless `force`."""
    from assistant.translate.action import run_translation

    case_id = session.known_case(case, "translating messages")
    report = run_translation(_app(session), case_id, session.user.username, via="ui", lang=lang, force=force,
                             on_progress=on_progress)
    lines = [f"**{report.translated} of {report.pending}** untranslated message(s) of `{esc(case_id)}` "
             f"machine-translated by `{esc(report.model)}` (stored beside the originals as *machine translation, "
             f"not verified*); {len(report.reindexed)} source(s) re-indexed."]
    lines += [f"- `{esc(code)}` not translated: {_cell(why)}" for code, why in report.refused.items()]
    lines += [f"- failed: {_cell(src)} message {_cell(mid)}: {_cell(why)}" for src, mid, why in report.failed]
    return "\n".join(lines)
