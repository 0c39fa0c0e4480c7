"""The audit record chain: how a record's hash is made and how a whole log is checked.

A record's hash covers the previous record's hash and the canonical JSON of {seq, time, kind, user, case, payload}.
Records written since the key came in (v2) are HMAC-SHA256 with the log's secret key, so an edit cannot be
re-hashed without it; records of older logs (v1) are plain SHA-256 and stay checkable. The signed head checkpoint
(`keys.read_checkpoint`) pins the newest record, so records removed from the end are found too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.access.keys import AuditKeys, Checkpoint

GENESIS = "0" * 64
KEYED = 2  # record version with an HMAC hash


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, seq: int, time: str, kind: str, user: str, case: str, payload: dict[str, Any],
                keys: AuditKeys | None = None) -> str:
    """HMAC with `keys` (v2 records), plain SHA-256 without (v1 records of logs made before the key)."""
    body = canonical_json({"seq": seq, "time": time, "kind": kind, "user": user, "case": case, "payload": payload})
    data = (prev_hash + body).encode("utf-8")
    return keys.mac(data) if keys is not None else hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    notes: list[str] = field(default_factory=list)  # what a crash left that is not tampering (ok stays True)


def _row_problems(row: Sequence[Any], keys: AuditKeys | None, prev: tuple[int, str, str]) -> list[str]:
    seq, time, kind, user, case, payload_text, stored_prev, stored_hash, version = row
    prev_seq, prev_hash, prev_time = prev
    problems = []
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
    if payload is not None and (keys is not None or version != KEYED):
        expected = record_hash(str(stored_prev), seq, str(time), str(kind), str(user), str(case), payload,
                               keys if version == KEYED else None)
        if expected != stored_hash:
            problems.append(f"seq {seq}: content does not match its hash (edited or moved)")
    if stored_prev != prev_hash:
        problems.append(f"seq {seq}: prev_hash does not match the hash of the record before it "
                        "(chain broken: a record was edited, reordered or deleted)")
    if prev_time and str(time) < prev_time:
        problems.append(f"seq {seq}: time is earlier than the record before it (reordered)")
    return problems


def verify_rows(rows: Sequence[Sequence[Any]], keys: AuditKeys | None, checkpoint: Checkpoint | None,
                where: str, expected_head: tuple[int, str] | None = None) -> AuditVerification:
    """Check rows (seq, time, kind, user, case_id, payload, prev_hash, hash, v) in storage order."""
    problems: list[str] = []
    notes: list[str] = []
    prev = (0, GENESIS, "")
    hashes: dict[int, str] = {}
    keyed_seen = False
    for row in rows:
        seq, version = int(row[0]), int(row[8])
        if version == KEYED and keys is None and not keyed_seen:
            problems.append(f"seq {seq}: keyed record but the audit key is missing from {where} (deleted?): the "
                            "chain cannot be checked")
        if version != KEYED and keyed_seen:
            problems.append(f"seq {seq}: unkeyed record after keyed ones (forged without the key)")
        keyed_seen = keyed_seen or version == KEYED
        problems.extend(_row_problems(row, keys, prev))
        prev = (seq, str(row[7]), str(row[1]))
        hashes[seq] = str(row[7])
    head_seq, head_hash = prev[0], prev[1]
    if checkpoint is None:
        if keyed_seen:
            problems.append(f"the signed head checkpoint is missing from {where} (deleted?): records removed from "
                            "the end could not be detected")
    elif not checkpoint.valid:
        problems.append(f"the head checkpoint in {where} is not signed by this log's key (edited or forged)")
    elif checkpoint.seq > head_seq:
        problems.append(f"the log ends at seq {head_seq} but the signed checkpoint of {checkpoint.time} says seq "
                        f"{checkpoint.seq}: records {head_seq + 1}-{checkpoint.seq} were removed from the end")
    elif hashes.get(checkpoint.seq) != checkpoint.hash:
        problems.append(f"seq {checkpoint.seq}: does not match the signed checkpoint of {checkpoint.time} "
                        "(records edited or the chain rewritten)")
    elif checkpoint.seq < head_seq:
        first = checkpoint.seq + 1
        notes.append(f"seq {first if first == head_seq else f'{first}-{head_seq}'}: newer than the signed head "
                     f"checkpoint (seq {checkpoint.seq}): an append stopped between writing its record and signing "
                     "the head (a crash or a full disk); the records chain correctly and the next append signs them")
    if expected_head is not None and expected_head != (head_seq, head_hash):
        problems.append(f"head is seq {head_seq} hash {head_hash[:12]}, expected seq {expected_head[0]} hash "
                        f"{expected_head[1][:12]} (records removed from the end or the chain rewritten)")
    return AuditVerification(not problems, problems, len(rows), head_seq, head_hash, notes)
