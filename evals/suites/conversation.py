"""The conversation: follow-up resolution and person digests, on questions written for the bundled demo case
(evals/cases/conversation.jsonl, split "dev" used while building, "heldout" not looked at until the final run).

- followup.<split>.accuracy: follow-ups whose standalone question holds every `must` string and none of the
  `must_not` references (whole words, case-insensitive); `unchanged` items must come back exactly as typed.
- route.<split>.accuracy: requests sent down the expected path (assistant.conversation.routes.route_of: person
  timeline, links index, person digest, several parts, ordinary answer); a "parts" item also needs its number of
  parts, a digest or timeline its person (as written in the question, possessive dropped).
- summary.<split>.line_precision: digest lines whose citation is right: the quote stands verbatim at its offset in
  the passage read back from the index, it is about the person (a name word or an alias in the quote, or the
  person is the cited message's sender), and, when a period is asked, its date (message time or the sentence's
  first date) is inside the period.
- summary.<split>.fact_recall: gold facts (written from the case files) present in the digest's lines.
- timeline.<split>.line_precision / date_accuracy / date_recall: a person's timeline, scored line by line
  (evals/suites/conversation_timeline.py says how).
The demo case is ingested once into a temporary index (about 20 s on 2 cores); everything else takes seconds."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals.datasets import iter_jsonl
from evals.suites import Timer, rounded

CASES = Path(__file__).resolve().parents[1] / "cases" / "conversation.jsonl"
REPO = Path(__file__).resolve().parents[2]


def _has_word(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def followup_ok(item: dict[str, Any]) -> tuple[bool, str]:
    from assistant.conversation.resolver import Turn, resolve

    turns = [Turn(q, q, a) for q, a in item.get("turns", [])]
    standalone = resolve(item["question"], turns).standalone
    if item.get("unchanged"):
        return standalone == item["question"], standalone
    ok = all(_has_word(standalone, m) for m in item.get("must", [])) and not any(
        _has_word(standalone, m) for m in item.get("must_not", []))
    return ok, standalone


def route_ok(item: dict[str, Any]) -> tuple[bool, str]:
    """The path taken, with the number of parts of a "parts" question and the person of a digest or timeline."""
    from assistant.conversation.digest_request import digest_request
    from assistant.conversation.multipart import split_parts
    from assistant.conversation.routes import route_of
    from assistant.conversation.timeline_request import timeline_request

    question = item["question"]
    route = route_of(question)
    if route == "parts":
        route = f"parts:{len(split_parts(question))}"
    elif route in ("digest", "timeline"):
        request = digest_request(question) if route == "digest" else timeline_request(question)
        route = f"{route}:{request.person if request else ''}"
    want = {"parts": f"parts:{item.get('parts')}", "digest": f"digest:{item.get('person')}",
            "timeline": f"timeline:{item.get('person')}"}.get(item["route"], item["route"])
    return route == want, route


def _line_ok(app: Any, case: str, citation: Any, item: dict[str, Any]) -> bool:
    from assistant.conversation.digest import name_terms
    from assistant.links.dates import find_dates
    from assistant.text.messages import message_records

    passage = app.get_chunk(case, citation.chunk_id)
    if passage is None or passage.text[citation.quote_start:citation.quote_start + len(citation.quote)] != \
            citation.quote:
        return False
    terms = name_terms(item["person"]) + [a.lower() for a in item.get("aliases", [])]
    record = next((m for m in message_records(passage.meta) if m.start <= citation.quote_start < m.end), None)
    about = any(_has_word(citation.quote, t) for t in terms) or (
        record is not None and any(_has_word(record.sender, t) for t in terms))
    if not about:
        return False
    if not item.get("start"):
        return True
    if record is not None:
        day = record.timestamp[:10]
    else:
        dates = find_dates(citation.quote)
        day = dates[0].day.isoformat() if dates else ""
    return bool(day) and item["start"] <= day <= item["end"]


def _summary(app: Any, case: str, item: dict[str, Any]) -> dict[str, Any]:
    return _summary_answer(app, case, item)[0]


def _summary_answer(app: Any, case: str, item: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    answer = app.ask(case, item["question"], user="eval")
    good = sum(1 for c in answer.citations if _line_ok(app, case, c, item))
    text = answer.answer.lower()
    found = [f for f in item.get("facts", []) if f.lower() in text]
    return {"id": item["id"], "lines": len(answer.citations), "precise": good, "facts": len(item.get("facts", [])),
            "facts_found": len(found), "backend": answer.backend, "removed": len(answer.flagged_claims),
            "missed": [f for f in item.get("facts", []) if f not in found]}, answer


def run(settings: Settings, *, quick: bool = False, progress: bool = True, cases: Path = CASES) -> dict[str, Any]:
    from assistant.app import App

    timer = Timer()
    items = list(iter_jsonl(cases))
    from evals.suites.conversation_timeline import timeline_metrics

    result: dict[str, Any] = {"followup": {}, "route": {}, "summary": {}, "timeline": {}}
    for split in ("dev", "heldout"):
        rows = [(item["id"], *followup_ok(item)) for item in items
                if item["kind"] == "followup" and item["split"] == split]
        result["followup"][split] = {"n": len(rows), "accuracy": sum(ok for _, ok, _ in rows) / max(1, len(rows)),
                                     "wrong": {i: s for i, ok, s in rows if not ok}}
        rows = [(item["id"], *route_ok(item)) for item in items if item["kind"] == "route" and item["split"] == split]
        result["route"][split] = {"n": len(rows), "accuracy": sum(ok for _, ok, _ in rows) / max(1, len(rows)),
                                  "wrong": {i: r for i, ok, r in rows if not ok}}
    timer.mark("followup_s")
    demo_dir = settings.demo_dir if settings.demo_dir.is_absolute() else REPO / settings.demo_dir
    with tempfile.TemporaryDirectory(prefix="eval-conversation-") as tmp:
        app = App(settings.model_copy(update={"index_dir": Path(tmp) / "indexes"}))
        app.ingest([demo_dir], settings.demo_case, progress=progress)
        timer.mark("ingest_s")
        for split in ("dev", "heldout"):
            rows = [_summary(app, settings.demo_case, item) for item in items
                    if item["kind"] == "summary" and item["split"] == split]
            lines = sum(r["lines"] for r in rows)
            facts = sum(r["facts"] for r in rows)
            result["summary"][split] = {
                "n": len(rows), "lines": lines,
                "line_precision": sum(r["precise"] for r in rows) / lines if lines else 0.0,
                "fact_recall": sum(r["facts_found"] for r in rows) / facts if facts else 0.0,
                "removed_lines": sum(r["removed"] for r in rows),
                "per_question": rows}
        timer.mark("summary_s")
        for split in ("dev", "heldout"):
            result["timeline"][split] = timeline_metrics(app, settings.demo_case, items, split)
        timer.mark("timeline_s")
    result["timing_s"] = timer.marks
    return rounded(result)
