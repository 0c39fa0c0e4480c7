"""The audit log's secret and its signed head checkpoint, kept outside the log and outside the index dir.

One 32-byte random key (`audit.key`, 0600, in a 0700 folder) gives two derived keys: the HMAC key of the record
chain (nobody without it can recompute a record's hash after editing it) and an Ed25519 signing key for head
checkpoints and per-case exports (anyone can check those with the public key; its fingerprint identifies the
installation). `head.json` beside it holds the last record's seq and hash, signed: deleting records from the end of
the log, or the whole log, leaves a checkpoint that no longer matches.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

log = logging.getLogger(__name__)

KEY_FILE = "audit.key"
HEAD_FILE = "head.json"


def default_keys_dir(index_dir: Path) -> Path:
    """<index_dir's parent>/.<index_dir name>-audit-keys: beside the index dir, never inside it."""
    folder = Path(index_dir).expanduser().resolve()
    return folder.parent / f".{folder.name}-audit-keys"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public_fingerprint(public_raw: bytes) -> str:
    digest = hashlib.sha256(public_raw).hexdigest()[:32]
    return ":".join(digest[i:i + 4] for i in range(0, 32, 4))


def check_signature(public_raw: bytes, signature_b64: str, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(base64.b64decode(signature_b64), data)
        return True
    except (InvalidSignature, ValueError):
        return False


class AuditKeys:
    """The derived keys of one audit log."""

    def __init__(self, folder: Path, master: bytes) -> None:
        self.folder = folder
        self.chain_key = hmac.new(master, b"audit record chain v2", hashlib.sha256).digest()
        seed = hmac.new(master, b"audit signing v2", hashlib.sha256).digest()
        self._signer = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_raw = self._signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        return public_fingerprint(self.public_raw)

    def mac(self, data: bytes) -> str:
        return hmac.new(self.chain_key, data, hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> str:
        return b64(self._signer.sign(data))


def load_keys(folder: Path) -> AuditKeys | None:
    path = folder / KEY_FILE
    if not path.exists():
        return None
    master = path.read_bytes()
    if len(master) != 32:
        raise ValueError(f"{path} is not an audit key (expected 32 bytes, found {len(master)})")
    return AuditKeys(folder, master)


def create_keys(folder: Path) -> AuditKeys:
    """A new key with owner-only permissions, published whole: it is written to a private temporary file and then
    hard-linked into place, which fails with FileExistsError when another process published one first. A process
    starting beside this one therefore never reads a key file that is still empty (it did with O_EXCL + write)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    master = os.urandom(32)
    tmp = folder / f".{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(master)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, folder / KEY_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("audit_key_created fingerprint=%s", AuditKeys(folder, master).fingerprint)
    return AuditKeys(folder, master)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: str
    valid: bool  # the signature checks out with this installation's key


def _checkpoint_body(seq: int, digest: str, time: str) -> bytes:
    return json.dumps({"seq": seq, "hash": digest, "time": time}, sort_keys=True).encode("utf-8")


def read_checkpoint(keys: AuditKeys | None, folder: Path) -> Checkpoint | None:
    path = folder / HEAD_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq, digest, time, sig = int(data["seq"]), str(data["hash"]), str(data["time"]), str(data["sig"])
    except (ValueError, KeyError, TypeError):
        return Checkpoint(0, "", "", False)
    valid = keys is not None and check_signature(keys.public_raw, sig, _checkpoint_body(seq, digest, time))
    return Checkpoint(seq, digest, time, valid)


def advance_checkpoint(keys: AuditKeys, seq: int, digest: str) -> None:
    """Move the signed head forward to (seq, digest); never backwards (several processes append)."""
    lock_fd = os.open(keys.folder / "head.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_checkpoint(keys, keys.folder)
        if current is not None and current.valid and current.seq >= seq:
            return
        time = datetime.now(UTC).isoformat(timespec="microseconds")
        body = {"seq": seq, "hash": digest, "time": time, "sig": keys.sign(_checkpoint_body(seq, digest, time)),
                "key": public_fingerprint(keys.public_raw)}
        tmp = keys.folder / f".{HEAD_FILE}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(body, sort_keys=True))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, keys.folder / HEAD_FILE)
