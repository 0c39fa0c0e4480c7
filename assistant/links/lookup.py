"""`assistant links VALUE`: every case that mentions an identifier, shown as far as the user may see it.

A user sees the sources (chunk, file, locator) of the cases assigned to them; for any other case only that a match
exists, the case reference and who to ask (the case's users in `links.contact_roles`). A user whose role is in
`links.break_glass_roles` may open the other cases too by giving a reason: each case opened that way is a
`break_glass` audit record of that case. Every look-up made for a named user is a `links` audit record, with the
coverage of the index when nothing was found (a negative assurance)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from assistant.access.audit import AuditLog
from assistant.access.auth import User, UserStore
from assistant.config import LinksSettings
from assistant.errors import AssistantError
from assistant.links.identifiers import NAME, classify_query
from assistant.links.store import Coverage, LinkStore, Mention

log = logging.getLogger(__name__)

FULL, EXISTENCE, BREAK_GLASS = "full", "existence", "break_glass"


class AccessDenied(AssistantError):
    """A break-glass asked for by a role that may not, or without a sufficient reason."""


@dataclass(frozen=True)
class CaseHit:
    case: str
    mentions: int
    access: str
    sources: tuple[Mention, ...] = ()
    contacts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"case": self.case, "mentions": self.mentions, "access": self.access,
                               "sources": [{"chunk_id": m.chunk_id, "source": m.source, "locator": m.locator}
                                           for m in self.sources]}
        if self.access == EXISTENCE:
            out["contact"] = list(self.contacts)
        return out


@dataclass(frozen=True)
class LinkResult:
    query: str
    normalized: str
    type: str
    cases: tuple[CaseHit, ...]
    coverage: Coverage
    values: tuple[str, ...] = field(default=())  # what was searched (a name with its declared aliases)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "normalized": self.normalized, "type": self.type,
                "cases": [c.to_json() for c in self.cases], "searched": list(self.values),
                "coverage": {"sources": self.coverage.sources, "cases": self.coverage.cases,
                             "indexed_up_to": self.coverage.indexed_up_to}}

    def negative_assurance(self) -> str:
        c = self.coverage
        return (f"no mention in {c.sources} sources of {c.cases} cases, indexed up to "
                f"{c.indexed_up_to or 'never (the index is empty)'}")


class LinkLookup:
    def __init__(self, store: LinkStore, users: UserStore, audit: AuditLog, settings: LinksSettings) -> None:
        self.store = store
        self.users = users
        self.audit = audit
        self.settings = settings

    def search_values(self, query: str) -> tuple[str, str, set[str]]:
        normalized, kind = classify_query(query, self.settings.default_region)
        if not normalized:
            raise AssistantError(f"nothing to look up in {query!r}: give a phone number, IMEI, registration, "
                                 "e-mail, handle, sort code + account or a name")
        values = self.store.alias_group(normalized) if kind == NAME else {normalized}
        return normalized, kind, values

    def lookup(self, query: str, *, user: str | None = None, reason: str = "", audit: bool = True,
               actor: str = "") -> LinkResult:
        """Cases mentioning `query`. `user=None` is the local operator (sees everything, like `assistant ask`);
        a named user is held to the case assignments; `reason` asks for a break-glass. `actor`, when given, is
        who the audit records (the CLI's "X (claimed) via OS user Y")."""
        normalized, kind, values = self.search_values(query)
        by_case: dict[str, list[Mention]] = defaultdict(list)
        for m in self.store.mentions(values):
            by_case[m.case].append(m)
        hits: list[CaseHit] = []
        opened: list[CaseHit] = []
        if reason and user is not None:
            self._check_break_glass(user, reason)
        current = self.users.get(user) if user is not None else None  # read from the store now, once per look-up
        if user is not None and current is None:
            raise AccessDenied(f"unknown user {user!r}")
        everyone: list[User] | None = None  # read once per look-up, only when a case needs its contacts
        for case in sorted(by_case):
            mentions = tuple(by_case[case])
            total = sum(m.count for m in mentions)
            if current is None or current.is_admin or case in current.cases:
                hits.append(CaseHit(case, total, FULL, mentions))
            elif reason:
                hit = CaseHit(case, total, BREAK_GLASS, mentions)
                hits.append(hit)
                opened.append(hit)
            else:
                everyone = self.users.list_users() if everyone is None else everyone
                hits.append(CaseHit(case, total, EXISTENCE, (), self.contacts(case, everyone)))
        result = LinkResult(query, normalized, kind, tuple(hits), self.store.coverage(), tuple(sorted(values)))
        if audit:
            self._record(result, actor or user or "cli", reason, opened)
        log.info("links lookup type=%s cases=%d user_set=%s break_glass=%d", kind, len(hits), user is not None,
                 len(opened))
        return result

    def contacts(self, case: str, everyone: list[User] | None = None) -> tuple[str, ...]:
        everyone = self.users.list_users() if everyone is None else everyone
        named = [u.username for u in everyone if case in u.cases and u.role in self.settings.contact_roles]
        if named:
            return tuple(named)
        return tuple(u.username for u in everyone if u.is_admin) or ("an administrator",)

    def _check_break_glass(self, user: str, reason: str) -> None:
        current = self.users.get(user)
        if current is None:
            raise AccessDenied(f"unknown user {user!r}")
        if current.role not in self.settings.break_glass_roles and not current.is_admin:
            raise AccessDenied(f"role {current.role!r} may not open other cases' passages (break-glass roles: "
                               f"{', '.join(self.settings.break_glass_roles)}); ask the case contact instead")
        if len(reason.strip()) < self.settings.min_reason_chars:
            raise AccessDenied(f"a break-glass needs a reason of at least {self.settings.min_reason_chars} "
                               "characters (it is recorded in the audit log)")

    def _record(self, result: LinkResult, user: str, reason: str, opened: list[CaseHit]) -> None:
        payload: dict[str, Any] = {
            "query": result.query, "normalized": result.normalized, "type": result.type,
            "cases": [{"case": c.case, "mentions": c.mentions, "access": c.access,
                       "chunk_ids": [m.chunk_id for m in c.sources]} for c in result.cases if c.access != EXISTENCE],
            "existence": {c.case: c.mentions for c in result.cases if c.access == EXISTENCE}}
        if not result.cases:
            payload["assurance"] = result.negative_assurance()
        self.audit.append("links", user, "", payload)
        for hit in opened:
            self.audit.append("break_glass", user, hit.case, {
                "reason": reason.strip(), "query": result.query, "normalized": result.normalized,
                "chunk_ids": [m.chunk_id for m in hit.sources]})
