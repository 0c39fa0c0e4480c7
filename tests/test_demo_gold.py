"""The gold questions' evidence strings really are in the demo case files (demo/check_gold.py)."""

import subprocess
import sys

from tests.conftest import ROOT


def test_demo_gold_evidence_is_verbatim_in_sources() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "demo" / "check_gold.py")], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK: every evidence string occurs verbatim" in proc.stdout


def test_heldout_gold_evidence_is_verbatim_in_sources() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "demo" / "check_gold.py"), "--heldout"], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gold questions: 30;" in proc.stdout
    assert "OK: every evidence string occurs verbatim" in proc.stdout
