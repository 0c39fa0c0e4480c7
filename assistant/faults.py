"""Named kill points for fault-injection tests (issue 14), usable from every layer (the index's writes, the audit log).

`kill_point(name)` is inert unless the environment variable ASSISTANT_FAULT_KILL names that point; then the process
SIGKILLs itself there (on the n-th hit when ASSISTANT_FAULT_AT=n, default 1), exactly like a power cut or an OOM kill.
Nothing else reads these variables; production never sets them."""

from __future__ import annotations

import os
import signal

KILL_ENV = "ASSISTANT_FAULT_KILL"
KILL_AT_ENV = "ASSISTANT_FAULT_AT"
# the index: after a Chroma add batch; chunks written, swap not made; swapped, old version not deleted; BM25 file half
# written. The audit log: before its record is written; record written, not committed; committed, head not signed.
KILL_POINTS = ("chroma_add", "before_swap", "after_swap", "bm25_save")
# the side collections of non-English originals (index.languages.versions): a batch's entries written, its chunks not
SIDE_KILL_POINTS = ("side_add",)
AUDIT_KILL_POINTS = ("audit_before_write", "audit_mid_record", "audit_after_write")
_hits: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process here when the fault-injection variable names this point; otherwise do nothing."""
    if os.environ.get(KILL_ENV) != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(os.environ.get(KILL_AT_ENV, "1")):
        os.kill(os.getpid(), signal.SIGKILL)
