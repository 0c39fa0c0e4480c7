"""The only path from the UI to the services: one `Session` per request, bound to a stored user.

Every method checks access on the server side (the store is asked each time, so revocations apply at once) and
masks PII in what it returns according to the user's role. Unauthorised calls raise `AccessDenied`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.access.accounts import Accounts
from assistant.access.audit import DECISIONS, AuditLog, AuditRecord
from assistant.access.auth import User, UserError, UserStore
from assistant.access.requests import checked_filters, clean_purpose, clean_question, report_summary
from assistant.config import Settings
from assistant.errors import AccessDenied
from assistant.types import Answer, Passage, RetrievalFilters

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


class SessionApp(Protocol):
    """What a Session needs from `assistant.app.App`."""

    settings: Settings

    @property
    def audit(self) -> AuditLog: ...

    @property
    def users(self) -> UserStore: ...

    def list_cases(self) -> list[str]: ...

    def ingest(self, paths: Sequence[Path], case: str, *, progress: bool = True,
               on_progress: ProgressFn | None = None, actor: str = "") -> Any: ...

    def ask(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
            purpose: str = "", audit_extra: Mapping[str, Any] | None = None) -> Answer: ...

    def ask_stream(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
                   purpose: str = "", audit_extra: Mapping[str, Any] | None = None) -> Iterator[str | Answer]: ...

    def list_sources(self, case: str) -> list[str]: ...

    def get_chunk(self, case: str, chunk_id: str) -> Passage | None: ...

    def mask_answer(self, answer: Answer, role: str) -> Answer: ...

    def mask_passage(self, passage: Passage, role: str) -> Passage: ...


@dataclass(frozen=True)
class AuditFilters:
    """Narrowing of the supervisor's record list. Empty strings mean "any"."""

    case: str = ""
    user: str = ""
    kind: str = "answer"
    since: str = ""
    until: str = ""


class Session:
    """One authenticated user acting on the app."""

    def __init__(self, app: SessionApp, user: User) -> None:
        self.app = app
        self.user = user

    @classmethod
    def for_username(cls, app: SessionApp, username: str | None) -> Session:
        """Resolve a logged-in username (e.g. `gr.Request.username`) to a Session, or refuse."""
        user = app.users.get(username) if username else None
        if user is None or user.disabled:
            raise AccessDenied("not logged in as a known user: log in again")
        return cls(app, user)

    # --- helpers ------------------------------------------------------------------------------------------------------
    @property
    def cleared(self) -> bool:
        """Whether this role sees PII in clear (then answer text may be streamed as it is generated)."""
        return self.app.settings.pii.sees_clear(self.user.role)

    def _current(self) -> User:
        current = self.app.users.get(self.user.username)
        if current is None or current.disabled:
            raise AccessDenied(f"user {self.user.username!r} no longer exists or is disabled")
        return current

    def deny(self, message: str, action: str, case: str = "") -> AccessDenied:
        """An AccessDenied to raise, recorded first as a "denied" audit record (who, what, which case)."""
        log.warning("access_denied user=%s action=%s case=%s", self.user.username, action, case)
        self.app.audit.append("denied", self.user.username, case, {"action": action, "reason": message})
        return AccessDenied(message)

    def require_admin(self, action: str) -> User:
        """The current user when an admin; AccessDenied (audited) otherwise."""
        return self._require_role(action, admin_only=True)

    def _require_role(self, action: str, admin_only: bool = False) -> User:
        current = self._current()
        allowed = current.is_admin if admin_only else current.can_audit
        if not allowed:
            needed = "an admin" if admin_only else "a supervisor or admin"
            raise self.deny(f"{action} needs {needed}; {current.username!r} is a {current.role}", action)
        return current

    def require_case(self, case: str) -> str:
        """The case id when this user may open it; AccessDenied otherwise (including unknown cases)."""
        case_id = (case or "").strip()
        if not case_id:
            raise AccessDenied("choose a case first")
        if not self.app.users.can_access(self.user.username, case_id):
            raise self.deny(f"user {self.user.username!r} is not assigned to case {case_id!r}", "case", case_id)
        return case_id

    def _request(self, case: str, filters: RetrievalFilters | None) -> tuple[str, RetrievalFilters | None]:
        """The case and the filters as the services take them (the Source as the real file name); filters by which
        this role could probe a protected person, or naming a file it cannot see, are refused and audited
        (`access.requests`)."""
        case_id = self.require_case(case)
        return case_id, checked_filters(self.app, case_id, filters, self.user.role, self.cleared, self.deny)

    # --- reviewer actions ---------------------------------------------------------------------------------------------
    def cases(self) -> list[str]:
        """Cases this user may open that exist in the index (admins: every case)."""
        existing = self.app.list_cases()
        current = self._current()
        if current.is_admin:
            return sorted(existing)
        return [c for c in current.cases if c in existing]

    def ask(self, case: str, question: str, filters: RetrievalFilters | None = None, purpose: str = "",
            audit_extra: Mapping[str, Any] | None = None) -> Answer:
        """`purpose`: the stated reason for the question, recorded with it in the audit log; `audit_extra`: more
        keys for the answer record (the filters, the question as typed when a follow-up was rewritten)."""
        case_id, filters = self._request(case, filters)
        answer = self.app.ask(case_id, clean_question(question), user=self.user.username, filters=filters,
                              purpose=clean_purpose(purpose), audit_extra=audit_extra)
        return self.app.mask_answer(answer, self.user.role)

    def ask_stream(self, case: str, question: str, filters: RetrievalFilters | None = None, purpose: str = "",
                   audit_extra: Mapping[str, Any] | None = None) -> Iterator[str | Answer]:
        """Text deltas then the final masked Answer. Roles that are not cleared for PII get no raw deltas:
        the generated text is only shown once it has been masked. `audit_extra` goes into the answer record."""
        case_id, filters = self._request(case, filters)
        stream = self.app.ask_stream(case_id, clean_question(question), user=self.user.username, filters=filters,
                                     purpose=clean_purpose(purpose), audit_extra=audit_extra)
        for item in stream:
            if isinstance(item, Answer):
                yield self.app.mask_answer(item, self.user.role)
            elif self.cleared:
                yield item

    def sources(self, case: str) -> list[str]:  # the source filter's list
        return self.app.list_sources(self.require_case(case))

    def get_chunk(self, case: str, chunk_id: str, context: Answer | None = None) -> Passage | None:
        """One passage of `case`, masked for the role. With `context` (the answer being read) the passage is masked
        together with that answer's retrieved passages, in their order, so its placeholders (<PERSON_1>, ...) are the
        same ones the masked answer and its quotes use."""
        case_id = self.require_case(case)
        passage = self._chunk(case_id, chunk_id)
        if passage is not None:  # an evidence read: who opened which passage, in clear or masked
            self.app.audit.append("view", self.user.username, case_id, {"chunk_id": chunk_id, "clear": self.cleared})
        if passage is None or self.cleared:
            return passage
        if context is None or context.case != case_id:
            return self.app.mask_passage(passage, self.user.role)
        ids = [p.chunk_id for p in context.retrieved]
        raws = [passage if cid == chunk_id else self._chunk(case_id, cid) for cid in ids]
        together = [p for p in raws if p is not None] + ([] if chunk_id in ids else [passage])
        probe = Answer(question="", case=case_id, status="answered", answer="", backend="", retrieved=tuple(together))
        masked = self.app.mask_answer(probe, self.user.role).retrieved
        return next((p for p in masked if p.chunk_id == chunk_id), self.app.mask_passage(passage, self.user.role))

    def _chunk(self, case_id: str, chunk_id: str) -> Passage | None:
        passage = self.app.get_chunk(case_id, chunk_id)
        if passage is not None and passage.case != case_id:  # defence in depth: never another case's chunk
            raise self.deny(f"chunk {chunk_id!r} is not in case {case_id!r}", "passage of another case", case_id)
        return passage

    # --- supervisor actions -------------------------------------------------------------------------------------------
    def audit_cases(self) -> list[str]:
        current = self._require_role("viewing the audit log")
        if current.is_admin:
            return sorted(set(self.app.list_cases()) | {r.case for r in self.app.audit.records() if r.case})
        return list(current.cases)

    def audit_records(self, filters: AuditFilters | None = None) -> list[AuditRecord]:
        current = self._require_role("viewing the audit log")
        f = filters or AuditFilters()
        if f.case:
            self.require_case(f.case)
        records = self.app.audit.records(case=f.case or None, user=f.user or None, kind=f.kind or None,
                                         since=f.since or None, until=f.until or None)
        if current.is_admin:
            return records
        allowed = set(current.cases)
        return [r for r in records if r.case in allowed]

    def audit_record(self, seq: int) -> AuditRecord:
        self._require_role("viewing the audit log")
        record = self.app.audit.get(int(seq))
        if record is None:
            raise AccessDenied(f"no audit record {seq}")
        if not self._current().is_admin:
            self.require_case(record.case)
        return record

    def review(self, seq: int, decision: str, comment: str = "") -> AuditRecord:
        current = self._require_role("reviewing answers")
        if decision not in DECISIONS:
            raise UserError(f"decision must be one of {', '.join(DECISIONS)}")
        record = self.audit_record(seq)
        if record.kind != "answer":
            raise UserError(f"audit record {seq} is a {record.kind} record, not an answer")
        if record.user == current.username or record.user.startswith(f"{current.username} (claimed) via "):
            raise self.deny(f"{current.username!r} cannot review their own answer (record {seq}): another "
                             "supervisor must", "review own answer", record.case)
        return self.app.audit.append_review(current.username, record.seq, decision, comment)

    def review_status(self, case: str | None = None) -> dict[int, AuditRecord]:
        """Latest review per answer seq, limited to the cases this user may audit."""
        current = self._require_role("viewing the audit log")
        if case:
            self.require_case(case)
        latest = self.app.audit.review_status(case or None)
        if current.is_admin:
            return latest
        allowed = set(current.cases)
        return {seq: rec for seq, rec in latest.items() if rec.case in allowed}

    def export(self, case: str, fmt: str = "json") -> str:
        current = self._require_role("exporting the audit log")
        case_id = self.require_case(case)
        text = self.app.audit.export(case_id, fmt, exported_by=current.username)
        self.app.audit.append("export", current.username, case_id, {"format": fmt, "bytes": len(text.encode())})
        return text

    # --- admin actions ------------------------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], case: str, on_progress: ProgressFn | None = None) -> Any:
        from assistant.access.auth import validate_case

        me, case_id = self._require_role("ingesting files", admin_only=True), validate_case(case)
        report = self.app.ingest([Path(p) for p in paths], case_id, progress=False, on_progress=on_progress,
                                 actor=me.username)  # a protected.json at a root is read as the CLI reads it
        self.app.audit.append("ingest", me.username, case_id, dict(paths=len(paths), report=report_summary(report)))
        return report

    def list_users(self) -> list[User]:
        self._require_role("managing users", admin_only=True)
        return self.app.users.list_users()

    def _accounts(self) -> Accounts:
        self._require_role("managing users", admin_only=True)
        return Accounts(self.app.users, self.app.audit)

    def add_user(self, username: str, password: str, role: str) -> User:
        return self._accounts().add(self.user.username, username, password, role)

    def known_case(self, case: str, action: str = "managing users") -> str:
        """`case` when it exists and this user is an admin; an unknown case (a typo) is refused, never assigned."""
        self._require_role(action, admin_only=True)
        if (case_id := (case or "").strip()) not in (known := self.app.list_cases()):
            raise UserError(f"case {case_id!r} does not exist: ingest its files first (cases: {', '.join(known)})")
        return case_id

    def assign(self, username: str, case: str) -> User:  # a non-admin is refused (and recorded) by Accounts
        case = self.known_case(case) if self._current().is_admin else case
        return self._accounts().assign(self.user.username, username, case)

    def unassign(self, username: str, case: str) -> User:
        return self._accounts().unassign(self.user.username, username, case)
