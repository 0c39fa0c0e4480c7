"""Crashes and a full disk during an audit append (issue 14): a real child process appends to a real log and is
SIGKILLed at each kill point of `AuditLog.append` (assistant.faults.AUDIT_KILL_POINTS), or runs under a file-size
limit (RLIMIT_FSIZE: what a full disk looks like to a writer). Then `assistant audit verify` says exactly what
happened, never silently, the chain is intact, and the next append works and is signed."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from assistant.access.audit import AuditLog
from assistant.cli import main as cli
from assistant.faults import AUDIT_KILL_POINTS
from tests.killharness import child_env, run_child

CHILD = ("import sys\nfrom pathlib import Path\nfrom assistant.access.audit import AuditLog\n"
         "note = sys.argv[2] * int(sys.argv[3])\n"
         "AuditLog(Path(sys.argv[1])).append('ingest', 'admin1', 'heron', {'files': 1, 'note': note})\n")


def _append_in_child(path: Path, *, kill: str = "", fsize: int = 0,
                     note: str = "ok", repeat: int = 1) -> subprocess.CompletedProcess[str]:
    return run_child(["-c", CHILD, str(path), note, str(repeat)], child_env(kill=kill), fsize=fsize, timeout=120)


def _verify(index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "idx" / "audit.sqlite")
    audit.append("login", "admin1", "", {"ok": True})
    audit.append("ingest", "admin1", "heron", {"files": 3})
    return audit


@pytest.mark.parametrize(("point", "records", "note"), [
    ("audit_before_write", 2, None),
    ("audit_mid_record", 2, "an append was cut off before it committed (a rollback journal audit.sqlite-journal"),
    ("audit_after_write", 3, "seq 3: newer than the signed head checkpoint (seq 2): an append stopped between "
                             "writing its record and signing the head"),
])
def test_an_append_killed_at_each_point_is_reported_and_the_next_append_works(
        log: AuditLog, point: str, records: int, note: str | None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert point in AUDIT_KILL_POINTS
    killed = _append_in_child(log.path, kill=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 0, out  # a crash is not tampering: the chain verifies
    assert f"audit log OK: {records} records" in out
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    if note is None:
        assert notes == [], out  # nothing happened, and nothing is claimed
    else:
        assert len(notes) == 1 and note in notes[0], out

    after = _append_in_child(log.path, note="after the crash")
    assert after.returncode == 0, after.stderr[-2000:]
    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 0 and f"audit log OK: {records + 1} records" in out and "note:" not in out, out
    assert [r.payload.get("note") for r in AuditLog(log.path).records(kind="ingest")][-1] == "after the crash"


def test_a_full_disk_names_the_log_and_leaves_it_intact(log: AuditLog, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    size = log.path.stat().st_size
    full = _append_in_child(log.path, fsize=size, note="x", repeat=200_000)  # the record cannot fit: the file must grow
    assert full.returncode == 1
    assert f"could not write the audit log {log.path} (" in full.stderr and "nothing was recorded" in full.stderr
    assert "full" in full.stderr or "File too large" in full.stderr or "I/O" in full.stderr, full.stderr[-2000:]
    code, out = _verify(log.path.parent, capsys, monkeypatch)
    assert code == 0 and "audit log OK: 2 records" in out, out
    after = _append_in_child(log.path, note="space again")
    assert after.returncode == 0, after.stderr[-2000:]
    assert [r.seq for r in AuditLog(log.path).records()] == [1, 2, 3]



def test_a_key_file_is_never_visible_before_it_is_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two concurrent ingests once died reading a 0-byte key that the other process had created but not yet written.
    The key must appear under its name only once written and synced; a second creator gets FileExistsError and the
    first key stands; no temporary file is left."""
    from assistant.access import keys as keys_mod

    final = tmp_path / "k" / keys_mod.KEY_FILE
    seen_at_sync: list[bool] = []
    real_fsync = keys_mod.os.fsync

    def watching_fsync(fd: int) -> None:
        seen_at_sync.append(final.exists())
        real_fsync(fd)

    monkeypatch.setattr(keys_mod.os, "fsync", watching_fsync)
    first = keys_mod.create_keys(final.parent)
    assert seen_at_sync == [False]
    with pytest.raises(FileExistsError):
        keys_mod.create_keys(final.parent)
    loaded = keys_mod.load_keys(final.parent)
    assert loaded is not None and loaded.fingerprint == first.fingerprint
    assert sorted(p.name for p in final.parent.iterdir()) == [keys_mod.KEY_FILE]
