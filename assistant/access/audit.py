"""Append-only, keyed hash-chained audit log in SQLite.

Each record's hash is an HMAC (key outside the log, `access.keys`) over the previous hash and the canonical JSON of
{seq, time, kind, user, case, payload}; the first record chains to GENESIS. SQLite triggers refuse UPDATE and
DELETE; `verify()` recomputes the chain and compares its head with the signed checkpoint kept beside the key, so an
edit, a reordering, a deletion (with the triggers dropped), records removed from the end, or a deleted log are
all reported. An append refuses to continue a log whose head no longer matches the checkpoint.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from assistant.access.chain import GENESIS, KEYED, AuditVerification, canonical_json, record_hash, verify_rows
from assistant.access.keys import (
    AuditKeys,
    advance_checkpoint,
    create_keys,
    default_keys_dir,
    load_keys,
    read_checkpoint,
)
from assistant.errors import AssistantError
from assistant.faults import kill_point
from assistant.types import Answer

__all__ = ["GENESIS", "AuditError", "AuditLog", "AuditRecord", "AuditVerification", "canonical_json", "record_hash"]

log = logging.getLogger(__name__)

Kind = Literal["answer", "review", "export", "ingest", "login", "links", "break_glass", "user", "assignment", "view",
               "denied", "serve", "protect"]
KINDS: tuple[str, ...] = get_args(Kind)
Decision = Literal["approved", "flagged"]
DECISIONS: tuple[str, ...] = get_args(Decision)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    user TEXT NOT NULL,
    case_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    v INTEGER NOT NULL DEFAULT 2
);
CREATE INDEX IF NOT EXISTS audit_case ON audit (case_id, kind);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;
"""
_COLUMNS = "seq, time, kind, user, case_id, payload, prev_hash, hash"
_CHECKED = _COLUMNS + ", v"


class AuditError(AssistantError):
    """Invalid audit input (unknown kind or decision, review of a record that is not an answer)."""


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
        "citations": [{"n": c.n, "chunk_id": c.chunk_id, "source": c.source, "locator": c.locator,
                       "quote": c.quote, "verified": bool(c.verified),
                       **({"note": c.note} if c.note else {})} for c in answer.citations],
        "notes": list(answer.notes),
        "flagged_claims": list(answer.flagged_claims),
    }


class AuditLog:
    """The log. Each call opens its own connection; appends are serialised (thread lock + BEGIN IMMEDIATE)."""

    def __init__(self, path: Path | str, keys_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.keys_dir = keys_dir or default_keys_dir(self.path.parent)
        self._lock = threading.Lock()
        self.keys: AuditKeys | None = load_keys(self.keys_dir)
        if not self.path.exists() and (self.keys is not None or read_checkpoint(None, self.keys_dir)):
            log.error("audit_log_missing path=%s keys=%s", self.path, self.keys_dir)
            return  # deleted: never silently recreated empty; append refuses and verify fails
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path, timeout=10.0) as conn:
            legacy = bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone())
            conn.executescript(_SCHEMA)
            if "v" not in {str(r[1]) for r in conn.execute("PRAGMA table_info(audit)")}:  # a log from before keys
                conn.execute("ALTER TABLE audit ADD COLUMN v INTEGER NOT NULL DEFAULT 1")
        conn.close()
        self.keys = self.keys or load_keys(self.keys_dir)  # a process starting beside this one may have made them
        if self.keys is None and (not legacy or not self._has_keyed_records()):
            try:
                self.keys = create_keys(self.keys_dir)  # a new log, or an unkeyed one from before keys
            except FileExistsError:  # that other process made them first
                self.keys = load_keys(self.keys_dir)
            seq, digest = self.head()
            if seq and self.keys is not None:
                advance_checkpoint(self.keys, seq, digest)

    def _has_keyed_records(self) -> bool:
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM audit WHERE v = ? LIMIT 1", (KEYED,)).fetchone() is not None

    @property
    def missing(self) -> bool:
        return not self.path.exists()

    def _missing_message(self) -> str:
        return (f"the audit log {self.path} is missing, but its key and checkpoint in {self.keys_dir} show it "
                "existed (deleted?). Restore it from a backup; nothing can be recorded until then. To start a new "
                f"log on purpose, move {self.keys_dir} aside (keep it: it shows the old log existed)")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.missing:
            raise AuditError(self._missing_message())
        conn = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=10.0, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def _check_head(self, conn: sqlite3.Connection, last: tuple[Any, ...] | None) -> None:
        """Refuse to extend a log whose newest records were removed or rewritten since the signed checkpoint."""
        checkpoint = read_checkpoint(self.keys, self.keys_dir)
        if self.keys is None:
            raise AuditError(f"the audit key is missing from {self.keys_dir}: `assistant audit verify` for details")
        if checkpoint is None:
            if last is not None:
                raise AuditError(f"the audit log's signed checkpoint is missing from {self.keys_dir}: "
                                 "`assistant audit verify` for details")
            return
        row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (checkpoint.seq,)).fetchone()
        if not checkpoint.valid or row is None or str(row[0]) != checkpoint.hash:
            raise AuditError("the audit log no longer matches its signed checkpoint (records removed or rewritten): "
                             "nothing is appended; `assistant audit verify` for details")

    # --- writing ------------------------------------------------------------------------------------------------------
    def append(self, kind: str, user: str, case: str, payload: dict[str, Any]) -> AuditRecord:
        if kind not in KINDS:
            raise AuditError(f"unknown audit kind {kind!r}: one of {', '.join(KINDS)}")
        clean_payload: dict[str, Any] = json.loads(canonical_json(payload))  # JSON round trip: what verify() sees
        with self._lock, self._connect() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                self._check_head(conn, last)
                seq, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
                time = datetime.now(UTC).isoformat(timespec="microseconds")
                digest = record_hash(prev_hash, seq, time, kind, user, case, clean_payload, self.keys)
                kill_point("audit_before_write")
                conn.execute(f"INSERT INTO audit ({_COLUMNS}, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (seq, time, kind, user, case, canonical_json(clean_payload), prev_hash, digest, KEYED))
                kill_point("audit_mid_record")
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | OSError):  # e.g. the disk is full: SQLite keeps the log as it was
                    raise AuditError(f"could not write the audit log {self.path} ({exc}); nothing was "
                                     "recorded") from exc
                raise
            assert self.keys is not None  # _check_head refused otherwise
            kill_point("audit_after_write")
            try:
                advance_checkpoint(self.keys, seq, digest)
            except OSError as exc:
                raise AuditError(f"audit record {seq} was written to {self.path}, but its signed head checkpoint in "
                                 f"{self.keys_dir} could not be updated ({exc}); `assistant audit verify` reports it "
                                 "and the next append signs it") from exc
        log.info("audit_append seq=%d kind=%s user=%s case=%s hash=%s", seq, kind, user, case, digest[:12])
        return AuditRecord(seq, time, kind, user, case, clean_payload, prev_hash, digest)

    def append_answer(self, user: str, answer: Answer, extra: Mapping[str, Any] | None = None,
                      purpose: str = "") -> AuditRecord:
        """An answer with the asker's stated purpose ("" when none was given: the absence is recorded too); `extra`
        adds keys such as the filters used and the question as typed."""
        return self.append("answer", user, answer.case,
                           {**answer_payload(answer), **(extra or {}), "purpose": purpose.strip()})

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
        if self.missing:
            return []
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
        """Recompute the chain in storage order and compare its head with the signed checkpoint. Reports every
        edited, reordered or missing record by seq, records removed from the end, and a deleted log."""
        checkpoint = read_checkpoint(self.keys, self.keys_dir)
        if self.missing:
            seen = f" (checkpoint: seq {checkpoint.seq} at {checkpoint.time})" if checkpoint else ""
            return AuditVerification(False, [self._missing_message() + seen])
        journal = self.path.with_name(self.path.name + "-journal")
        torn = journal.exists() and journal.stat().st_size > 0  # SQLite rolls it back on the next read
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_CHECKED} FROM audit ORDER BY rowid").fetchall()
        result = verify_rows(rows, self.keys, checkpoint, str(self.keys_dir), expected_head)
        if torn:
            result.notes.append(f"an append was cut off before it committed (a rollback journal {journal.name} was "
                                "left by a writer that died, or one still writing): SQLite rolled it back, so "
                                "nothing of that record is in the log; the chain is intact")
        log.info("audit_verify ok=%s records=%d problems=%d", result.ok, result.records, len(result.problems))
        return result

    # --- export -------------------------------------------------------------------------------------------------------
    def export(self, case: str, fmt: str = "json", exported_by: str = "") -> str:
        """One case's records: JSON is signed and checkable on its own (`assistant audit verify-export`); CSV is
        for reading."""
        from assistant.access.export import export_case

        return export_case(self, case, fmt, exported_by)


def _row_to_record(row: tuple[Any, ...]) -> AuditRecord:
    seq, time, kind, user, case, payload_text, prev_hash, digest = row
    try:
        payload = json.loads(payload_text)
    except (TypeError, ValueError):
        payload = {"_unreadable": True}
    if not isinstance(payload, dict):
        payload = {"_value": payload}
    return AuditRecord(int(seq), str(time), str(kind), str(user), str(case), payload, str(prev_hash), str(digest))
