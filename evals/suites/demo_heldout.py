"""The held-out part of the demo gold set: 30 questions (23 answerable, 7 not) on operation-lapwing, a case written
after the answer rules were frozen (a second seized phone's messages and two statements). CI gates on this part;
the 45 questions on operation-kestrel (suite `demo`) tuned the rules and are reported. Same metrics as `demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals.suites import demo

HELDOUT_CASES = Path(__file__).resolve().parents[1] / "cases" / "demo_heldout.jsonl"
HELDOUT_DIR = demo.REPO / "demo" / "operation-lapwing"
HELDOUT_CASE = "lapwing"


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    held_out = settings.model_copy(update={"demo_dir": HELDOUT_DIR, "demo_case": HELDOUT_CASE})
    return demo.run(held_out, quick=quick, progress=progress, gold_path=HELDOUT_CASES)
