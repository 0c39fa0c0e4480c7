"""Questions answered only by a call record, only by a contact entry and only by a deleted message each get a
verified citation: a PA XML report and a WhatsApp export are ingested for real (Chroma in tmp_path, Presidio, the
packaged embedder) and answered by the extractive backend."""

from __future__ import annotations

import io
from typing import Any

import pytest

from assistant.ingest.chunking import messages_in_span
from assistant.loaders.phone.records import record_of
from tests import pa_report as pa

OWNER = ("+447700900001", "", True)
KIRA = ("+447700900418", "Kira Lane", False)
DEAN = ("+447700900555", "Dean Ross", False)
CHAT = [  # ordinary conversation around the facts asked about, so retrieval has to choose
    ("m1", KIRA, "Are you still coming to the retail park on Saturday?"),
    ("m2", OWNER, "Yes, I will drive there after work."),
    ("m3", DEAN, "Tell her the car is parked behind the library."),
    ("m4", KIRA, "I will be at the library steps at six."),
    ("m5", OWNER, "Bring the blue bag with you."),
    ("m6", DEAN, "The money is in the glovebox."),
]


@pytest.fixture(scope="module")
def phone_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    case_dir = tmp_path_factory.mktemp("phonecase")
    out = io.StringIO()
    messages = [pa.instant_message(i, f"KEY-{i}", f"2024-03-15T1{n}:00:00.000+00:00", who, text)
                for n, (i, who, text) in enumerate(CHAT)]
    messages.append(pa.instant_message("m9", "KEY-m9", "2024-03-15T17:30:00.000+00:00", DEAN,
                                       "Throw the red notebook into the canal tonight", deleted=True))
    pa.write_report(out, [
        ("Chat", pa.chat("c1", "group-1@g.us", [KIRA, DEAN, OWNER], messages)),
        ("Call", [pa.call("k1", "2024-03-15T10:12:00.000+00:00", "Incoming", "07700 900418", "Kira Lane",
                          "00:02:31"),
                  pa.call("k2", "2024-03-16T08:40:00.000+00:00", "Outgoing", "07700 900555", "Dean Ross",
                          "00:00:45")]),
        ("Contact", [pa.contact("p1", "Kira Lane", "07700 900418", "kira.lane@example.org"),
                     pa.contact("p2", "Dean Ross", "07700 900555")]),
    ])
    (case_dir / "phone_report.xml").write_text(out.getvalue(), encoding="utf-8")
    (case_dir / "WhatsApp Chat with Dean.txt").write_text(
        "15/03/2024, 18:01 - Dean Ross: Did you sort the notebook?\n"
        "15/03/2024, 18:02 - Sam: Yes, it is gone\n", encoding="utf-8")
    settings = load_settings(index_dir=tmp_path_factory.mktemp("index"))
    settings.llm.backend = "extractive"
    app = App(settings)
    report = app.ingest([case_dir], "phone", progress=False)
    assert sorted(report.ingested) == ["WhatsApp Chat with Dean.txt", "phone_report.xml"], report.failed
    app.report = report
    return app


def cited_records(answer: Any, phone_app: Any) -> list[Any]:
    """The phone records under each verified citation's quote."""
    found = []
    for c in answer.citations:
        assert c.verified, c
        passage = next(p for p in answer.retrieved if p.chunk_id == c.chunk_id)
        chunk = type("C", (), {"meta": passage.meta, "text": passage.text})
        start = c.quote_start if c.quote_start >= 0 else passage.text.find(c.quote)
        for rec in messages_in_span(chunk, start, start + len(c.quote)):  # type: ignore[arg-type]
            found.append(record_of(rec.phone))
    return found


def test_ingest_report_lists_what_each_phone_file_held(phone_app: Any) -> None:
    notes = dict(phone_app.report.notes[i] for i in range(len(phone_app.report.notes))
                 if phone_app.report.notes[i][1].startswith("read "))
    assert notes["phone_report.xml"] == ("read 7 message(s), 2 call(s), 2 contact(s), 1 device record(s); "
                                         "1 deleted")
    assert notes["WhatsApp Chat with Dean.txt"] == "read 2 message(s)"


def test_a_question_answered_only_by_a_call_record(phone_app: Any) -> None:
    answer = phone_app.ask("phone", "How long did the incoming call from 07700 900418 last?")
    assert answer.status == "answered", answer.answer
    kinds = {(r.kind, r.record_id) for r in cited_records(answer, phone_app) if r is not None}
    assert ("call", "k1") in kinds, answer.citations
    assert "2 min 31 s" in answer.answer, answer.answer


def test_a_question_answered_only_by_a_contact_entry(phone_app: Any) -> None:
    answer = phone_app.ask("phone", "What e-mail address is saved for Kira Lane?")
    assert answer.status == "answered", answer.answer
    kinds = {(r.kind, r.record_id) for r in cited_records(answer, phone_app) if r is not None}
    assert ("contact", "p1") in kinds, answer.citations
    assert "kira.lane@example.org" in answer.answer


def test_a_question_answered_only_by_a_deleted_message(phone_app: Any) -> None:
    answer = phone_app.ask("phone", "What was Dean told to do with the red notebook?")
    assert answer.status == "answered", answer.answer
    cited = [r for r in cited_records(answer, phone_app) if r is not None]
    deleted = [r for r in cited if r.deleted]
    assert deleted and deleted[0].app_id == "KEY-m9", answer.citations
    assert "canal" in answer.answer
    quote_text = next(c.text for c in answer.citations if "canal" in c.quote)
    assert "[DELETED message, recovered from the extraction] Throw the red notebook" in quote_text


@pytest.mark.parametrize(("question", "badge"), [
    ("How long did the incoming call from 07700 900418 last?", "📞 Call record"),
    ("What e-mail address is saved for Kira Lane?", "👤 Contact entry"),
    ("What was Dean told to do with the red notebook?", "🗑 DELETED message (recovered by the extraction)"),
])
def test_the_citation_panel_shows_what_the_record_is(phone_app: Any, question: str, badge: str) -> None:
    from assistant.ui.render import passage_html

    answer = phone_app.ask("phone", question)
    c = answer.citations[0]
    html = passage_html(c, next(p for p in answer.retrieved if p.chunk_id == c.chunk_id))
    cited_row = next(row for row in html.split("<tr") if row.startswith(' class="cited"'))
    assert badge in cited_row
    assert "device: Galaxy S10 ·" in cited_row and "extraction: File System 01" in cited_row
    assert "phone_report.xml#model" in cited_row  # provenance


def test_the_device_record_is_citable_and_its_identifiers_are_masked_for_reviewers(phone_app: Any) -> None:
    from assistant.config import PiiSettings
    from assistant.pii.display import mask_answer
    from assistant.ui.render import passage_html

    answer = phone_app.ask("phone", "What is the IMEI of the seized device?")
    assert answer.status == "answered" and "356938035643809" in answer.answer
    kinds = {r.kind for r in cited_records(answer, phone_app) if r is not None}
    assert "device" in kinds
    masked = mask_answer(answer, "reviewer", PiiSettings(mask_all_pii_roles=["reviewer"]))
    c = masked.citations[0]
    html = passage_html(c, next(p for p in masked.retrieved if p.chunk_id == c.chunk_id))
    assert "356938035643809" not in html and "356938035643809" not in masked.answer
    assert "📱 Device record" in html
