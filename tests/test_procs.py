"""assistant.procs.stop_process on real child processes: one that ends on SIGTERM, one that ignores it (killed after
the grace period), one already gone."""

from __future__ import annotations

import signal
import subprocess
import sys

from assistant.procs import stop_process

IGNORES_TERM = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)")


def test_a_child_that_ends_on_sigterm_is_terminated() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_process(proc, grace_s=10) == -signal.SIGTERM
    assert proc.poll() == -signal.SIGTERM


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"  # the SIGTERM handler is in place
    assert stop_process(proc, grace_s=0.5) == -signal.SIGKILL
    proc.stdout.close()


def test_an_exited_child_or_none_is_left_alone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(timeout=30)
    assert stop_process(proc) == 3
    assert stop_process(None) is None
