"""Append-only, hash-chained audit log in SQLite.

Each record's hash is sha256(prev_hash + canonical JSON of {seq, time, kind, user, case, payload}); the first record
chains to GENESIS. SQLite triggers refuse UPDATE and DELETE, and `verify()` recomputes the chain, so an edit, a
reordering or a deletion made with the triggers dropped is still found and reported with its seq. A full rewrite of
the chain is caught by comparing `head()` with a value noted elsewhere (`verify(expected_head=...)`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from assistant.errors import AssistantError
from assistant.types import Answer

log = logging.getLogger(__name__)

Kind = Literal["answer", "review", "export", "ingest", "login", "links", "break_glass"]
KINDS: tuple[str, ...] = get_args(Kind)
Decision = Literal["approved", "flagged"]
DECISIONS: tuple[str, ...] = get_args(Decision)
GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    user TEXT NOT NULL,
    case_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_case ON audit (case_id, kind);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;
"""
_COLUMNS = "seq, time, kind, user, case_id, payload, prev_hash, hash"


class AuditError(AssistantError):
    """Invalid audit input (unknown kind or decision, review of a record that is not an answer)."""


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, seq: int, time: str, kind: str, user: str, case: str, payload: dict[str, Any]) -> str:
    body = canonical_json({"seq": seq, "time": time, "kind": kind, "user": user, "case": case, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    time: str
    kind: str
    user: str
    case: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "kind": self.kind, "user": self.user, "case": self.case,
                "payload": self.payload, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS


def answer_payload(answer: Answer) -> dict[str, Any]:
    """What an "answer" record keeps: enough to re-check the answer without the index."""
    return {
        "question": answer.question,
        "status": answer.status,
        "answer": answer.answer,
        "backend": answer.backend,
        "model": answer.model,
        "prompt_version": answer.prompt_version,
        "retrieved": [{"chunk_id": p.chunk_id, "score": round(float(p.score), 6)} for p in answer.retrieved],
        "citations": [{"n": c.n, "chunk_id": c.chunk_id, "quote": c.quote, "verified": bool(c.verified),
                       **({"note": c.note} if c.note else {})} for c in answer.citations],
        "notes": list(answer.notes),
        "flagged_claims": list(answer.flagged_claims),
    }


class AuditLog:
    """The log. Each call opens its own connection; appends are serialised (thread lock + BEGIN IMMEDIATE)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    # --- writing ------------------------------------------------------------------------------------------------------
    def append(self, kind: str, user: str, case: str, payload: dict[str, Any]) -> AuditRecord:
        if kind not in KINDS:
            raise AuditError(f"unknown audit kind {kind!r}: one of {', '.join(KINDS)}")
        clean_payload: dict[str, Any] = json.loads(canonical_json(payload))  # JSON round trip: what verify() sees
        with self._lock, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
                time = datetime.now(UTC).isoformat(timespec="microseconds")
                digest = record_hash(prev_hash, seq, time, kind, user, case, clean_payload)
                conn.execute(f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (seq, time, kind, user, case, canonical_json(clean_payload), prev_hash, digest))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        log.info("audit_append seq=%d kind=%s user=%s case=%s hash=%s", seq, kind, user, case, digest[:12])
        return AuditRecord(seq, time, kind, user, case, clean_payload, prev_hash, digest)

    def append_answer(self, user: str, answer: Answer) -> AuditRecord:
        return self.append("answer", user, answer.case, answer_payload(answer))

    def append_review(self, user: str, answer_seq: int, decision: str, comment: str = "") -> AuditRecord:
        """A supervisor's decision on an answer record: always a new record, never an edit."""
        if decision not in DECISIONS:
            raise AuditError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
        target = self.get(answer_seq)
        if target is None or target.kind != "answer":
            raise AuditError(f"audit record {answer_seq} is not an answer record")
        payload = {"answer_seq": target.seq, "answer_hash": target.hash, "decision": decision,
                   "comment": (comment or "").strip()}
        return self.append("review", user, target.case, payload)

    # --- reading ------------------------------------------------------------------------------------------------------
    def records(self, case: str | None = None, user: str | None = None, kind: str | None = None,
                since: str | None = None, until: str | None = None) -> list[AuditRecord]:
        """Records in seq order. `since`/`until` are ISO dates or datetimes (UTC), both inclusive."""
        wanted = (("case_id = ?", case), ("user = ?", user), ("kind = ?", kind), ("time >= ?", since))
        clauses: list[str] = [clause for clause, value in wanted if value]
        params: list[Any] = [value for _, value in wanted if value]
        if until:
            clauses.append("substr(time, 1, length(?)) <= ?")
            params.extend([until, until])
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM audit{where} ORDER BY seq", params).fetchall()
        return [_row_to_record(r) for r in rows]

    def get(self, seq: int) -> AuditRecord | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM audit WHERE seq = ?", (int(seq),)).fetchone()
        return _row_to_record(row) if row else None

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record; note it elsewhere to detect a rewrite of the whole chain."""
        with self._connect() as conn:
            row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def review_status(self, case: str | None = None) -> dict[int, AuditRecord]:
        """The latest review record per answer seq."""
        latest: dict[int, AuditRecord] = {}
        for rec in self.records(case=case, kind="review"):
            target = rec.payload.get("answer_seq")
            if isinstance(target, int):
                latest[target] = rec
        return latest

    # --- checking -----------------------------------------------------------------------------------------------------
    def verify(self, expected_head: tuple[int, str] | None = None) -> AuditVerification:
        """Recompute the chain in storage order. Reports every edited, reordered or missing record by seq."""
        problems: list[str] = []
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY rowid").fetchall()
        prev_seq, prev_hash, prev_time = 0, GENESIS, ""
        for row in rows:
            seq, time, kind, user, case, payload_text, stored_prev, stored_hash = row
            seq = int(seq)
            if seq != prev_seq + 1:
                if seq > prev_seq + 1:
                    missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}-{seq - 1}"
                    problems.append(f"seq {missing}: missing (deleted record(s) before seq {seq})")
                else:
                    problems.append(f"seq {seq}: out of order after seq {prev_seq} (reordered)")
            try:
                payload = json.loads(payload_text)
            except (TypeError, ValueError):
                problems.append(f"seq {seq}: payload is not valid JSON (edited)")
                payload = None
            if payload is not None:
                expected = record_hash(str(stored_prev), seq, str(time), str(kind), str(user), str(case), payload)
                if expected != stored_hash:
                    problems.append(f"seq {seq}: content does not match its hash (edited or moved)")
            if stored_prev != prev_hash:
                problems.append(f"seq {seq}: prev_hash does not match the hash of the record before it "
                                "(chain broken: a record was edited, reordered or deleted)")
            if prev_time and str(time) < prev_time:
                problems.append(f"seq {seq}: time is earlier than the record before it (reordered)")
            prev_seq, prev_hash, prev_time = seq, str(stored_hash), str(time)
        if expected_head is not None and expected_head != (prev_seq, prev_hash):
            problems.append(f"head is seq {prev_seq} hash {prev_hash[:12]}, expected seq {expected_head[0]} hash "
                            f"{expected_head[1][:12]} (records removed from the end or the chain rewritten)")
        result = AuditVerification(not problems, problems, len(rows), prev_seq, prev_hash)
        log.info("audit_verify ok=%s records=%d problems=%d", result.ok, len(rows), len(problems))
        return result

    # --- export -------------------------------------------------------------------------------------------------------
    def export(self, case: str, fmt: str = "json") -> str:
        """Every record of one case, with hashes, as a JSON array or CSV (payload as canonical JSON)."""
        records = self.records(case=case)
        if fmt == "json":
            return json.dumps([r.to_json() for r in records], indent=2, ensure_ascii=False) + "\n"
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["seq", "time", "kind", "user", "case", "question", "status", "decision", "answer_seq",
                             "payload", "prev_hash", "hash"])
            for r in records:
                p = r.payload
                writer.writerow([r.seq, r.time, r.kind, r.user, r.case, p.get("question", ""), p.get("status", ""),
                                 p.get("decision", ""), p.get("answer_seq", ""), canonical_json(p), r.prev_hash,
                                 r.hash])
            return buf.getvalue()
        raise AuditError(f"unknown export format {fmt!r}: json or csv")


def _row_to_record(row: tuple[Any, ...]) -> AuditRecord:
    seq, time, kind, user, case, payload_text, prev_hash, digest = row
    try:
        payload = json.loads(payload_text)
    except (TypeError, ValueError):
        payload = {"_unreadable": True}
    if not isinstance(payload, dict):
        payload = {"_value": payload}
    return AuditRecord(int(seq), str(time), str(kind), str(user), str(case), payload, str(prev_hash), str(digest))
