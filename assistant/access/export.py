"""Per-case audit exports that check on their own.

A JSON export carries the case's records, the log head it was cut from and an Ed25519 signature (the log's signing
key, `access.keys`) over everything else, with the public key. `verify_export` needs nothing but the file: it checks
the signature and that every record belongs to the case, in order, at or before the head; on the machine that made
it (or given the fingerprint) it also checks that the key is the expected one. The log is verified before anything
is exported, so an export is never cut from a tampered log.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.access.chain import canonical_json
from assistant.access.keys import AuditKeys, b64, check_signature, public_fingerprint
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.access.audit import AuditLog

FORMAT = "assistant-audit-export/1"
_CSV_HEADER = ["seq", "time", "kind", "user", "case"]  # then _FLAT (readable, flat columns), hashes


_FLAT = ("question", "asked", "purpose", "status", "answer", "backend", "model", "prompt_version", "filters",
         "citations", "decision", "answer_seq", "comment", "details")
_PLAIN = ("question", "asked", "purpose", "status", "answer", "backend", "model", "prompt_version")


def flat_payload(p: dict[str, Any]) -> list[str]:
    """A record's payload as flat, readable CSV cells (in `_FLAT` order): citations as "[n] source · locator",
    filters as "key=value"; whatever else the payload holds goes to `details` as JSON."""
    cites = "; ".join(f"[{c.get('n')}] {c.get('source', c.get('chunk_id', ''))} · {c.get('locator', '')}"
                      f"{'' if c.get('verified') else ' (unverified)'}" for c in p.get("citations", [])
                      if isinstance(c, dict))
    raw = p.get("filters")
    filters: dict[str, Any] = raw if isinstance(raw, dict) else {}
    used = "; ".join(f"{k}={v}" for k, v in sorted(filters.items()) if v)
    shown = {*_FLAT, "retrieved", "searched_for", "answer_hash"}
    rest = {k: v for k, v in p.items() if k not in shown}
    return [*(str(p.get(k, "")) for k in _PLAIN), used, cites, str(p.get("decision", "")),
            str(p.get("answer_seq", "")), str(p.get("comment", "")), canonical_json(rest) if rest else ""]


def export_case(log: AuditLog, case: str, fmt: str = "json", exported_by: str = "") -> str:
    if fmt not in ("json", "csv"):
        from assistant.access.audit import AuditError

        raise AuditError(f"unknown export format {fmt!r}: json or csv")
    check = log.verify()
    if not check.ok:
        raise AssistantError(f"the audit log fails verification ({check.problems[0]}): export refused; "
                             "`assistant audit verify` lists every problem")
    records = log.records(case=case)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*_CSV_HEADER, *_FLAT, "prev_hash", "hash"])
        for r in records:
            writer.writerow([r.seq, r.time, r.kind, r.user, r.case, *flat_payload(r.payload), r.prev_hash, r.hash])
        return buf.getvalue()
    keys = log.keys
    assert keys is not None  # verify() passed, so the log has its key
    envelope: dict[str, Any] = {
        "format": FORMAT, "case": case, "exported_by": exported_by,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "log_head": {"seq": check.head_seq, "hash": check.head_hash},
        "records": [r.to_json() for r in records],
        "key": {"algorithm": "Ed25519", "public": b64(keys.public_raw),
                "fingerprint": public_fingerprint(keys.public_raw)},
    }
    envelope["signature"] = keys.sign(canonical_json(envelope).encode("utf-8"))
    return json.dumps(envelope, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class ExportCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    case: str = ""
    records: int = 0
    fingerprint: str = ""


def verify_export(text: str, local: AuditKeys | None = None, expect_fingerprint: str = "") -> ExportCheck:
    """Check an export on its own. The signing key must be `expect_fingerprint` when given, else this
    installation's (`local`) when there is one; with neither, the fingerprint is reported for comparison."""
    try:
        data = json.loads(text)
        signature, key = str(data.pop("signature")), data["key"]
        public, case, records = base64.b64decode(key["public"]), str(data["case"]), list(data["records"])
        head = int(data["log_head"]["seq"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return ExportCheck(False, [f"not a signed audit export ({type(exc).__name__}: {exc})"])
    problems = []
    if data.get("format") != FORMAT:
        problems.append(f"unknown format {data.get('format')!r} (expected {FORMAT})")
    fingerprint = public_fingerprint(public)
    if not check_signature(public, signature, canonical_json(data).encode("utf-8")):
        problems.append("the signature does not match the content (the export was edited after it was made)")
    wanted = expect_fingerprint or (public_fingerprint(local.public_raw) if local is not None else "")
    if wanted and wanted != fingerprint:
        problems.append(f"signed by key {fingerprint}, not the expected {wanted} (made elsewhere, or forged)")
    previous = 0
    for rec in records:
        seq = int(rec.get("seq", 0)) if isinstance(rec, dict) else 0
        if not isinstance(rec, dict) or rec.get("case") != case:
            problems.append(f"record {seq}: not a record of case {case!r}")
        if seq <= previous or seq > head:
            problems.append(f"record {seq}: out of order or after the exported head {head}")
        previous = max(previous, seq)
    return ExportCheck(not problems, problems, case, len(records), fingerprint)
