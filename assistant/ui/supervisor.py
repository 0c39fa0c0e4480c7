"""Supervisor tab handlers: the audit table, one record (how it was asked, its cited passages, its decision
history), approve/flag in two steps (stage, then confirm), accuracy over time, export."""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from assistant.access.audit import DECISIONS, AuditRecord
from assistant.access.session import AuditFilters, Session
from assistant.errors import AssistantError
from assistant.perms import write_private_text
from assistant.pii.protected import KINDS, ProtectedPerson, protect
from assistant.types import Citation
from assistant.ui.render import esc, passage_html, record_html

log = logging.getLogger(__name__)

AUDIT_HEADERS = ["seq", "time", "case", "user", "status", "review", "verified", "question"]
REVIEW_STATES = ("any", "pending", "approved", "flagged")


@dataclass(frozen=True)
class DayAccuracy:
    day: str
    approved: int
    flagged: int

    @property
    def accuracy(self) -> float:
        total = self.approved + self.flagged
        return self.approved / total if total else 0.0


def _review_state(seq: int, latest: dict[int, AuditRecord]) -> str:
    rec = latest.get(seq)
    return str(rec.payload.get("decision", "pending")) if rec else "pending"


def audit_rows(session: Session, case: str = "", reviewer: str = "", date_from: str = "", date_to: str = "",
               review: str = "any", search: str = "") -> list[list[Any]]:
    """Answer records, newest first, as table rows. `reviewer` is the user who asked; `search` keeps records whose
    question (as asked or as searched) or answer holds the words, case-insensitively."""
    needle = (search or "").strip().casefold()
    filters = AuditFilters(case=case or "", user=(reviewer or "").strip().lower(), kind="answer",
                           since=(date_from or "").strip(), until=(date_to or "").strip())
    records = session.audit_records(filters)
    latest = session.review_status(case or None)
    rows: list[list[Any]] = []
    for rec in reversed(records):
        state = _review_state(rec.seq, latest)
        if review and review != "any" and state != review:
            continue
        p = rec.payload
        if needle and needle not in " ".join(str(p.get(k, "")) for k in ("question", "asked", "answer")).casefold():
            continue
        cites = [c for c in p.get("citations", []) if isinstance(c, dict)]
        verified = f"{sum(1 for c in cites if c.get('verified'))}/{len(cites)}"
        question = str(p.get("question", ""))
        rows.append([rec.seq, rec.time[:19].replace("T", " "), rec.case, rec.user, p.get("status", ""), state,
                     verified, question if len(question) <= 120 else question[:117] + "..."])
    return rows


def open_record(session: Session, seq: int | float | str | None) -> str:
    if seq in (None, ""):
        return "<div>Choose a record (click a row or type its seq).</div>"
    record = session.audit_record(int(float(str(seq))))
    if record.kind != "answer":
        return f"<div>Record {record.seq} is a {record.kind} record.</div>"
    latest = session.review_status(record.case)
    return record_html(record, latest.get(record.seq)) + record_extra_html(session, record)


def review(session: Session, seq: int | float | str | None, decision: str, comment: str = "") -> str:
    if seq in (None, ""):
        return "Choose a record first."
    rec = session.review(int(float(str(seq))), decision, comment)
    log.info("review_recorded user=%s answer_seq=%s decision=%s seq=%d", session.user.username,
             rec.payload.get("answer_seq"), decision, rec.seq)
    return f"Recorded: answer {rec.payload.get('answer_seq')} {decision} (audit record {rec.seq})."


def accuracy_series(session: Session, case: str = "") -> list[DayAccuracy]:
    """Per day of the answer, the latest decision of each reviewed answer."""
    answers = {r.seq: r for r in session.audit_records(AuditFilters(case=case or "", kind="answer"))}
    latest = session.review_status(case or None)
    approved: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    for seq, rec in latest.items():
        answer = answers.get(seq)
        if answer is None:
            continue
        day = answer.time[:10]
        if rec.payload.get("decision") == "approved":
            approved[day] += 1
        elif rec.payload.get("decision") == "flagged":
            flagged[day] += 1
    days = sorted(set(approved) | set(flagged))
    return [DayAccuracy(d, approved[d], flagged[d]) for d in days]


def accuracy_plot(session: Session, case: str = "") -> tuple[Figure, str]:
    series = accuracy_series(session, case)
    fig = Figure(figsize=(7, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if not series:
        ax.text(0.5, 0.5, "No reviewed answers yet", ha="center", va="center")
        ax.set_axis_off()
        return fig, "No reviewed answers yet."
    days = [s.day for s in series]
    xs = list(range(len(days)))
    ax.bar(xs, [s.approved for s in series], color="#2e7d32", label="approved")
    ax.bar(xs, [s.flagged for s in series], bottom=[s.approved for s in series], color="#c62828", label="flagged")
    ax.set_xticks(xs, days, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("reviewed answers")
    acc = ax.twinx()
    acc.plot(xs, [s.accuracy * 100 for s in series], color="#1565c0", marker="o", label="accuracy %")
    acc.set_ylim(0, 105)
    acc.set_ylabel("approved %")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    total_a = sum(s.approved for s in series)
    total_f = sum(s.flagged for s in series)
    summary = (f"Approved {total_a}, flagged {total_f}: accuracy {100 * total_a / (total_a + total_f):.1f}% "
               f"over {len(series)} day(s).")
    return fig, summary


def export_file(session: Session, case: str, fmt: str = "json") -> str:
    """Write the export to a fresh temp file and return its path (for gr.File)."""
    text = session.export(case, fmt)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(tempfile.mkdtemp(prefix="audit-export-")) / f"audit-{case}-{stamp}.{fmt}"
    write_private_text(out, text)  # 0600 inside mkdtemp's 0700 folder
    return str(out)


def protect_person(session: Session, case: str, names: str, aliases: str = "", phones: str = "",
                   addresses: str = "", dobs: str = "", handles: str = "") -> str:
    """Supervisors and admins add a protected person to one of their cases (each field: values separated by ';');
    audited as the user. Roles without clearance see the person's identifiers masked from the next answer on."""
    session.audit_cases()  # supervisors and admins only; a refusal is audited
    case_id = session.require_case(case)
    given = dict(zip(KINDS, ([v.strip() for v in (t or "").split(";") if v.strip()]
                             for t in (names, aliases, phones, addresses, dobs, handles)), strict=True))
    person = ProtectedPerson.from_json(given, "the protected-person form")
    total = protect(session.app.settings.index_dir, session.app.audit, session.user.username, case_id, (person,), "ui")
    return f"Case {case_id}: {total} protected person(s); reviewers now see their identifiers masked."


# --- one record: how it was asked, its passages, decisions in two steps with a history ---------------------------
def reviews_of(session: Session, record: AuditRecord) -> list[AuditRecord]:
    """Every decision on an answer record, oldest first (a changed decision is a new record, never an edit)."""
    reviews = session.audit_records(AuditFilters(case=record.case, kind="review"))
    return [r for r in reviews if r.payload.get("answer_seq") == record.seq]


def record_extra_html(session: Session, record: AuditRecord) -> str:
    p = record.payload
    raw = p.get("filters")
    filters: dict[str, object] = raw if isinstance(raw, dict) else {}
    used = ", ".join(f"{esc(k)} = {esc(v)}" for k, v in sorted(filters.items()) if v) or "none"
    asked = (f"<div>Asked as: “{esc(p['asked'])}” · searched for: “{esc(p.get('searched_for', ''))}”</div>"
             if p.get("asked") else "")
    history = "".join(f"<li>{esc(r.time[:19].replace('T', ' '))} · <b>{esc(r.payload.get('decision'))}</b> by "
                      f"{esc(r.user)}{': ' + esc(r.payload.get('comment')) if r.payload.get('comment') else ''} "
                      f"(record {r.seq})</li>" for r in reviews_of(session, record))
    return (f'<div class="record-extra">{asked}<div>Filters: {used}</div><div><i>Open a cited passage on the '
            "right.</i></div><h4>Decision history</h4>"
            f'<ol class="decision-history">{history or "<li>no decision yet</li>"}</ol></div>')


def citation_choices(session: Session, seq: int | float | str | None) -> list[tuple[str, str]]:
    if seq in (None, ""):
        return []
    record = session.audit_record(int(float(str(seq))))
    return [(f"[{c.get('n')}] {c.get('source', '')} · {c.get('locator', '')}", str(c.get("n")))
            for c in record.payload.get("citations", []) if isinstance(c, dict)]


def open_cited_passage(session: Session, seq: int | float | str | None, n: str | None) -> str:
    """The passage of citation [n] of an answer record (access-checked and masked by the Session)."""
    if seq in (None, "") or not n:
        return ""
    record = session.audit_record(int(float(str(seq))))
    cite = next((c for c in record.payload.get("citations", []) if isinstance(c, dict) and str(c.get("n")) == n),
                None)
    if cite is None:
        return f'<div class="warn">Record {record.seq} has no citation [{esc(n)}].</div>'
    passage = session.get_chunk(record.case, str(cite.get("chunk_id", "")))
    if passage is None:
        return f'<div class="warn">The passage of [{esc(n)}] is no longer in the index (re-ingested?).</div>'
    citation = Citation(int(cite.get("n", 0)), passage.chunk_id, passage.source, str(cite.get("locator", "")),
                        str(cite.get("quote", "")), passage.text, bool(cite.get("verified")))
    return passage_html(citation, passage)


@dataclass(frozen=True)
class Staged:
    seq: int
    decision: str


def stage_decision(session: Session, seq: int | float | str | None, decision: str) -> tuple[Staged, str]:
    """Step one: name the decision and what it changes; nothing is recorded yet."""
    if seq in (None, ""):
        raise AssistantError("open a record first")
    if decision not in DECISIONS:
        raise AssistantError(f"decision must be one of {', '.join(DECISIONS)}")
    record = session.audit_record(int(float(str(seq))))
    if record.kind != "answer":
        raise AssistantError(f"record {record.seq} is a {record.kind} record, not an answer")
    history = reviews_of(session, record)
    current = history[-1].payload.get("decision") if history else None
    if current == decision:
        change = f"it is already {decision} (by {history[-1].user}); confirming records the decision again"
    elif current:
        change = f"this CHANGES the decision from {current} (by {history[-1].user}) to {decision}"
    else:
        change = f"this records it as {decision}"
    return Staged(record.seq, decision), f"Confirm: record {record.seq}: {change}."


def confirm_decision(session: Session, staged: Staged | None, comment: str) -> str:
    """Step two: record the staged decision (a new audit record); None (nothing staged) records nothing."""
    if staged is None:
        raise AssistantError("nothing to confirm: press Approve or Flag first")
    rec = session.review(staged.seq, staged.decision, comment)
    return f"Recorded: answer {staged.seq} {staged.decision} (audit record {rec.seq})."
