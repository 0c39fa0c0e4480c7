"""AuditLog: append-only, hash-chained; tampering with the triggers dropped is still detected, by seq."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.access.audit import GENESIS, AuditError, AuditLog, canonical_json, record_hash
from assistant.types import Answer, Citation, Passage


def _answer(question: str = "Who sold the SIM cards?", case: str = "kestrel") -> Answer:
    passage = Passage("kestrel:msg:1", case, "messages/phone.csv", "HE3-T4 #HE3-0002", "i have two new sim cards",
                      0.87654321, 1, "messages")
    citation = Citation(1, passage.chunk_id, passage.source, passage.locator, "two new sim cards", passage.text, True,
                        7)
    return Answer(question, case, "answered", "Samir offered two new SIM cards [1].", "extractive",
                  (citation,), (passage,), model="", prompt_version="v1", notes=("1 claim verified",))


@pytest.fixture()
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit.sqlite")
    audit.append("login", "reviewer1", "", {"ok": True})
    audit.append_answer("reviewer1", _answer())
    audit.append_answer("reviewer1", _answer("What car was seen?"))
    audit.append_answer("reviewer2", _answer("Who is the suspect?", case="heron"))
    audit.append_review("supervisor1", 2, "approved", "checked against the CSV")
    return audit


def _raw(audit: AuditLog) -> sqlite3.Connection:
    conn = sqlite3.connect(audit.path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_chain_links_and_hashes(log: AuditLog) -> None:
    records = log.records()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == GENESIS
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash
    r = records[1]
    assert r.hash == record_hash(r.prev_hash, r.seq, r.time, r.kind, r.user, r.case, r.payload, log.keys)
    assert r.hash != record_hash(r.prev_hash, r.seq, r.time, r.kind, r.user, r.case, r.payload)  # keyed, not sha256
    assert r.time.endswith("+00:00")
    result = log.verify()
    assert result.ok and result.problems == [] and result.records == 5
    assert (result.head_seq, result.head_hash) == log.head() == (5, records[-1].hash)


def test_answer_payload_has_everything_a_supervisor_needs(log: AuditLog) -> None:
    payload = log.get(2).payload  # type: ignore[union-attr]
    assert payload["question"] == "Who sold the SIM cards?"
    assert payload["status"] == "answered" and payload["backend"] == "extractive"
    assert payload["answer"].endswith("[1].") and payload["prompt_version"] == "v1" and payload["model"] == ""
    assert payload["retrieved"] == [{"chunk_id": "kestrel:msg:1", "score": 0.876543}]
    assert payload["citations"] == [{"n": 1, "chunk_id": "kestrel:msg:1", "source": "messages/phone.csv",
                                     "locator": "HE3-T4 #HE3-0002", "quote": "two new sim cards", "verified": True}]
    assert payload["notes"] == ["1 claim verified"] and payload["flagged_claims"] == []


def test_canonical_payload_in_storage(log: AuditLog) -> None:
    with sqlite3.connect(log.path) as conn:
        (stored,) = conn.execute("SELECT payload FROM audit WHERE seq = 2").fetchone()
    assert stored == canonical_json(json.loads(stored))
    assert '": ' not in stored and '", "' not in stored  # compact separators
    assert list(json.loads(stored)) == sorted(json.loads(stored))  # sorted keys


def test_triggers_refuse_update_and_delete(log: AuditLog) -> None:
    with sqlite3.connect(log.path) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit SET user = 'someone' WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit WHERE seq = 2")
    assert log.verify().ok


def test_edited_record_detected(log: AuditLog) -> None:
    conn = _raw(log)
    payload = log.get(3).payload  # type: ignore[union-attr]
    payload["answer"] = "Someone else entirely [1]."
    conn.execute("UPDATE audit SET payload = ? WHERE seq = 3", (canonical_json(payload),))
    conn.close()
    result = log.verify()
    assert not result.ok
    assert any(p.startswith("seq 3:") and "edited" in p for p in result.problems), result.problems
    assert not any(p.startswith(("seq 1:", "seq 2:", "seq 4:", "seq 5:")) for p in result.problems)


def test_edited_user_column_detected(log: AuditLog) -> None:
    conn = _raw(log)
    conn.execute("UPDATE audit SET user = 'supervisor1' WHERE seq = 4")
    conn.close()
    assert any(p.startswith("seq 4:") for p in log.verify().problems)


def test_reordered_pair_detected(log: AuditLog) -> None:
    conn = _raw(log)
    rows = {r[0]: r for r in conn.execute("SELECT seq, time, kind, user, case_id, payload, prev_hash, hash FROM audit")}
    for target, source in ((2, 3), (3, 2)):
        _, time, kind, user, case, payload, prev_hash, digest = rows[source]
        conn.execute("UPDATE audit SET time=?, kind=?, user=?, case_id=?, payload=?, prev_hash=?, hash=? WHERE seq=?",
                     (time, kind, user, case, payload, prev_hash, digest, target))
    conn.close()
    result = log.verify()
    assert not result.ok
    flagged = {p.split(":")[0] for p in result.problems}
    assert {"seq 2", "seq 3"} <= flagged, result.problems
    assert any("reordered" in p for p in result.problems)


def test_deleted_record_detected(log: AuditLog) -> None:
    conn = _raw(log)
    conn.execute("DELETE FROM audit WHERE seq = 3")
    conn.close()
    result = log.verify()
    assert not result.ok
    assert any(p.startswith("seq 3: missing") for p in result.problems), result.problems
    assert any(p.startswith("seq 4:") and "chain broken" in p for p in result.problems)


def test_deleted_newest_record_detected_with_expected_head(log: AuditLog) -> None:
    head = log.head()
    conn = _raw(log)
    conn.execute("DELETE FROM audit WHERE seq = 5")
    conn.close()
    result = log.verify()  # the signed checkpoint outside the log sees the truncated tail ...
    assert not result.ok and "records 5-5 were removed from the end" in result.problems[0], result.problems
    result = log.verify(expected_head=head)  # ... and so does a head noted elsewhere
    assert not result.ok and "expected seq 5" in result.problems[-1]


def test_review_is_a_new_record_never_an_edit(log: AuditLog) -> None:
    before = log.get(2)
    rec = log.append_review("supervisor1", 2, "flagged", "quote is about a different phone")
    assert rec.kind == "review" and rec.case == "kestrel" and rec.seq == 6
    assert rec.payload == {"answer_seq": 2, "answer_hash": before.hash, "decision": "flagged",  # type: ignore[union-attr]
                           "comment": "quote is about a different phone"}
    assert log.get(2) == before
    assert log.review_status()[2].payload["decision"] == "flagged"  # the latest decision wins
    with pytest.raises(AuditError, match="unknown decision"):
        log.append_review("supervisor1", 2, "maybe", "")
    with pytest.raises(AuditError, match="not an answer"):
        log.append_review("supervisor1", 1, "approved", "")
    with pytest.raises(AuditError, match="unknown audit kind"):
        log.append("delete", "x", "kestrel", {})
    assert log.verify().ok


def test_record_filters(log: AuditLog) -> None:
    assert [r.seq for r in log.records(case="kestrel")] == [2, 3, 5]
    assert [r.seq for r in log.records(user="reviewer2")] == [4]
    assert [r.seq for r in log.records(kind="answer", case="kestrel")] == [2, 3]
    today = log.get(1).time[:10]  # type: ignore[union-attr]
    assert len(log.records(since=today, until=today)) == 5
    assert log.records(until="2000-01-01") == [] and log.records(since="2999-01-01") == []
    assert log.get(99) is None


def test_export_json_and_csv(log: AuditLog) -> None:
    data = json.loads(log.export("kestrel", "json"))["records"]
    assert [d["seq"] for d in data] == [2, 3, 5]
    assert data[0]["payload"]["question"] == "Who sold the SIM cards?" and len(data[0]["hash"]) == 64
    rows = list(csv.DictReader(io.StringIO(log.export("kestrel", "csv"))))
    assert [r["seq"] for r in rows] == ["2", "3", "5"]
    assert rows[0]["question"] == "Who sold the SIM cards?" and rows[2]["decision"] == "approved"
    assert rows[1]["question"] == "What car was seen?" and "payload" not in rows[1]
    assert rows[0]["citations"] == "[1] messages/phone.csv · HE3-T4 #HE3-0002" and rows[0]["answer"]
    assert all(r["case"] == "kestrel" for r in rows)
    with pytest.raises(AuditError, match="unknown export format"):
        log.export("kestrel", "xml")


def test_unicode_payload_round_trips(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.sqlite")
    audit.append_answer("r", _answer("من باع الشرائح؟"))
    assert audit.records()[0].payload["question"] == "من باع الشرائح؟"
    assert audit.verify().ok


def test_a_recited_citation_keeps_its_note_in_the_audit_record(tmp_path: Path) -> None:
    note = "re-cited: the model cited passage 2, which states this less closely"
    base = _answer()
    answer = replace(base, citations=(replace(base.citations[0], note=note),))
    audit = AuditLog(tmp_path / "audit.sqlite")
    record = audit.append_answer("supervisor1", answer)
    assert audit.get(record.seq).payload["citations"][0]["note"] == note  # type: ignore[union-attr]


def test_a_log_from_before_the_key_is_kept_and_continued_keyed(tmp_path: Path) -> None:
    """An audit.sqlite written by the unkeyed version (no `v` column, SHA-256 chain) verifies, gets a key and a
    checkpoint, and goes on with keyed records; its old records stay protected by the chain."""
    path = tmp_path / "index" / "audit.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(_LEGACY_SCHEMA)
    prev = GENESIS
    for seq in (1, 2):
        time, payload = f"2024-01-0{seq}T10:00:00.000000+00:00", {"ok": True}
        digest = record_hash(prev, seq, time, "login", "reviewer1", "", payload)
        conn.execute("INSERT INTO audit VALUES (?, ?, 'login', 'reviewer1', '', ?, ?, ?)",
                     (seq, time, canonical_json(payload), prev, digest))
        prev = digest
    conn.commit()
    conn.close()
    log = AuditLog(path)
    assert log.keys is not None and log.verify().ok
    rec = log.append("login", "reviewer2", "", {"ok": True})
    assert rec.seq == 3 and rec.hash == record_hash(rec.prev_hash, 3, rec.time, "login", "reviewer2", "",
                                                    {"ok": True}, log.keys)
    assert log.verify().ok
    conn = _raw(log)
    conn.execute("UPDATE audit SET user = 'someone' WHERE seq = 1")
    conn.close()
    assert any(p.startswith("seq 1:") for p in log.verify().problems)


_LEGACY_SCHEMA = """
CREATE TABLE audit (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL, user TEXT NOT NULL,
                    case_id TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;
"""


def test_deleting_the_key_is_reported_not_papered_over(log: AuditLog) -> None:
    (log.keys_dir / "audit.key").unlink()
    reopened = AuditLog(log.path)
    assert reopened.keys is None  # a log with keyed records never gets a fresh key
    result = reopened.verify()
    assert not result.ok and "audit key is missing" in result.problems[0]
    with pytest.raises(AuditError, match="key is missing"):
        reopened.append("login", "x", "", {})
