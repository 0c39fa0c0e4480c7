"""What a supervisor needs beside one answer record: how it was asked (as typed, as searched, filters, model and
prompt), each citation as file and locator with its passage one click away, the decision history, and decisions
that take two steps (stage, then confirm), so a stray click never records or changes one."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.access.audit import DECISIONS, AuditRecord
from assistant.access.session import AuditFilters, Session
from assistant.errors import AssistantError
from assistant.types import Citation
from assistant.ui.render import esc, passage_html


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
