"""Cross-case and chronology questions in the chat, answered from the identifier index (real ingest of kestrel,
plover and heron: the session fixture `links_app`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.links.chat import detect

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("question", "kind", "value"), [
    ("Which other cases mention 07700 900418?", "links", "07700 900418"),
    ("Who is linked to KV68 BRX?", "links", "KV68 BRX"),
    ("Is 07700 900999 anywhere?", "links", "07700 900999"),
    ("Does m.wolski94@example.com turn up in any other case?", "links", "m.wolski94@example.com"),
    ("Who is connected to Marek Wolski?", "links", "Marek Wolski"),
])
def test_detects_cross_case_questions(question: str, kind: str, value: str) -> None:
    intent = detect(question)
    assert intent is not None and (intent.kind, intent.value) == (kind, value)


def test_ordinary_questions_are_not_routed() -> None:
    """Every gold question of the demo evaluation stays with retrieval (identifiers alone are not a cue)."""
    with (ROOT / "evals" / "cases" / "demo.jsonl").open(encoding="utf-8") as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()]
    assert questions and [q for q in questions if detect(q)] == []
    assert detect("Who used 07700 900418?") is None


def test_other_cases_answer_cites_and_withholds(links_app: Any) -> None:
    answer = links_app.ask("plover", "Which other cases mention 07700 900418?", user="sup-p")
    assert answer.status == "answered" and answer.backend == "links-index"
    assert "case kestrel: " in answer.answer and "ask sup-k" in answer.answer  # sup-p is not assigned to kestrel
    assert answer.citations and all(c.verified for c in answer.citations)
    assert {c.note for c in answer.citations} == {"case plover"}
    assert [c.quote for c in answer.citations] == ["+44 7700 900418"]
    assert answer.citations[0].text[answer.citations[0].quote_start:].startswith("+44 7700 900418")
    assert links_app.audit.records(kind="answer", user="sup-p")[-1].payload["backend"] == "links-index"


def test_negative_assurance_is_stated_and_audited(links_app: Any) -> None:
    answer = links_app.ask("kestrel", "Is 07700 900999 anywhere?", user="rev-k")
    cov = links_app.link_store.coverage()
    assert answer.status == "no_evidence" and not answer.citations
    assert f"no mention in {cov.sources} sources of {cov.cases} cases, indexed up to {cov.indexed_up_to}" \
        in answer.answer
    record = links_app.audit.records(kind="links", user="rev-k")[-1]
    assert record.payload["normalized"] == "+447700900999" and record.payload["assurance"] in answer.answer


def test_timeline_of_contact_between_two_people(links_app: Any) -> None:
    answer = links_app.ask("kestrel", "Give me a timeline of contact between Marek and Kacper", user="rev-k")
    with (ROOT / "demo" / "operation-kestrel" / "messages" / "phone_HE3_messages.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if {r["sender"], r["recipient"]} == {"Marek", "Kacper"}]
    lines = answer.answer.splitlines()
    message_lines = [ln for ln in lines if "Marek → Kacper" in ln or "Kacper → Marek" in ln]
    assert len(message_lines) == len(rows)
    assert len(lines) == len(answer.citations) and all(c.verified for c in answer.citations)
    stamps = [ln.split(" ", 1)[0][:19] for ln in lines]
    assert stamps == sorted(stamps)
    assert not any("Imran" in ln.split(": ", 1)[0] for ln in message_lines)


def test_who_is_linked_names_people_from_cited_passages(links_app: Any) -> None:
    answer = links_app.ask("kestrel", "Who is linked to km68wrv?", user="rev-k")
    line = next(ln for ln in answer.answer.splitlines() if ln.startswith("Named in the same passages"))
    entries = line.split(": ", 1)[1].split("; ")
    assert entries[0].startswith("Andrei Popescu [")  # "POPESCU ... drives ... registration KM68 WRV"
    by_n = {c.n: c for c in answer.citations}
    for entry in entries:
        name, marks = entry.split(" [", 1)
        for n in (int(m.strip("[] ")) for m in marks.split("] [")):
            assert name.split()[-1].lower() in by_n[n].text.lower()
