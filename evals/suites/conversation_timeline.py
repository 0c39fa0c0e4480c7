"""Timeline questions of the conversation suite (evals/cases/conversation.jsonl, kind "timeline"; dev used while
building, held-out not looked at until the final run). Per dated line of the answer ("- 2023-03-10 18:45 ... [n]"):

- line_precision: the line's citation is right: the quote stands verbatim at its offset in the passage read back from
  the index; it is about the person (a name word or alias in the quote, the person sends or receives the cited
  message, or names them earlier in the same paragraph: "He came home on Sunday 22nd January" after "Kacper left
  the house"); and, when a period is asked, the line's date is inside it.
- date_accuracy: the line's date is the cited material's own: the message's timestamp, else a date written in the
  quote, else (a sentence with only a time) the last date written before it in the passage.
- date_recall: gold event dates (written from the case files: the missing reports, the messages) that have a line.
Undated mentions are not scored here (they carry no date to check); their citations are verbatim by construction."""

from __future__ import annotations

import re
from typing import Any

_LINE = re.compile(r"^- (\d{4}-\d{2}-\d{2})\b.*\[(\d+)\]$")


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", text.lower()) is not None


def _own_dates(passage: Any, start: int, end: int, record: Any) -> set[str]:
    from assistant.links.dates import find_dates

    if record is not None:
        return {record.timestamp[:10]}
    before = find_dates(passage.text[:start])
    year = before[-1].day.year if before else None
    written = {d.day.isoformat() for d in find_dates(passage.text[start:end], year)}
    return written or ({before[-1].day.isoformat()} if before else set())


def line_scores(app: Any, case: str, answer: Any, item: dict[str, Any]) -> dict[str, Any]:
    from assistant.conversation.digest import name_terms
    from assistant.text.messages import message_records

    by_n = {c.n: c for c in answer.citations}
    terms = name_terms(item["person"]) + [a.lower() for a in item.get("aliases", [])]
    lines = precise = dated_right = 0
    days: set[str] = set()
    for line in answer.answer.splitlines():
        m = _LINE.match(line.strip())
        if m is None or int(m.group(2)) not in by_n:
            continue
        day, c = m.group(1), by_n[int(m.group(2))]
        lines += 1
        days.add(day)
        passage = app.get_chunk(case, c.chunk_id)
        end = c.quote_start + len(c.quote)
        if passage is None or passage.text[c.quote_start:end] != c.quote:
            continue
        record = next((r for r in message_records(passage.meta) if r.start <= c.quote_start < r.end), None)
        paragraph = passage.text[:c.quote_start].rsplit("\n\n", 1)[-1] + c.quote
        about = any(_has_word(paragraph, t) for t in terms) if record is None else any(
            _has_word(f"{record.sender} {record.recipient} {c.quote}", t) for t in terms)
        in_period = not item.get("start") or item["start"] <= day <= item["end"]
        precise += about and in_period
        dated_right += day in _own_dates(passage, c.quote_start, end, record)
    gold = item.get("dates", [])
    return {"id": item["id"], "lines": lines, "precise": precise, "dated_right": dated_right,
            "gold_dates": len(gold), "gold_found": sum(d in days for d in gold), "backend": answer.backend}


def timeline_metrics(app: Any, case: str, items: list[dict[str, Any]], split: str) -> dict[str, Any]:
    rows = [line_scores(app, case, app.ask(case, item["question"], user="eval"), item) for item in items
            if item["kind"] == "timeline" and item["split"] == split]
    lines = sum(r["lines"] for r in rows)
    gold = sum(r["gold_dates"] for r in rows)
    return {"n": len(rows), "lines": lines,
            "line_precision": sum(r["precise"] for r in rows) / lines if lines else 0.0,
            "date_accuracy": sum(r["dated_right"] for r in rows) / lines if lines else 0.0,
            "date_recall": sum(r["gold_found"] for r in rows) / gold if gold else 0.0, "per_question": rows}
