"""Citations that point at one thing: one message per message citation, the highlighted span is the verified span
(masked view included), and sender/date filters hold per message. Real App over the demo case (`demo_app`)."""

from __future__ import annotations

from typing import Any

from assistant.access.session import Session
from assistant.answer.message_cite import pin_messages
from assistant.index.narrow import narrow_passage
from assistant.pii.masking import Masker
from assistant.text.messages import encode_records, message_records
from assistant.text.quotes import locate_quote
from assistant.types import Answer, Citation, Entity, Passage, RetrievalFilters
from assistant.ui.render import passage_html


def ensure_users(app: Any) -> None:
    """The reviewer and supervisor of kestrel (and an admin) in a real App's index: demo accounts are only seeded
    into the demo index, so tests on `demo_app` add their own."""
    for name, password, role in (("reviewer1", "kestrel-review", "reviewer"),
                                 ("supervisor1", "kestrel-audit", "supervisor"), ("admin", "kestrel-admin", "admin")):
        if app.users.get(name) is None:
            app.users.add_user(name, password, role)
            if role != "admin":
                app.users.assign(name, "kestrel")


MARCH_MAREK = RetrievalFilters(date_from="2023-03-01", date_to="2023-03-31", sender="Marek")


def _messages_passage() -> Passage:
    from assistant.text.messages import MessageRecord

    lines = [("m1", "Kacper", "2023-02-04T10:00:00", "meet at the garage"),
             ("m2", "Marek", "2023-03-10T16:05:07", "the fare is sixty pounds"),
             ("m3", "Marek", "2023-03-12T09:00:00", "call Imran on 07700 900418")]
    text, records, pos = [], [], 0
    for mid, sender, ts, body in lines:
        prefix = f"[{ts}] {sender}: "
        records.append(MessageRecord(message_id=mid, thread_id="T1", timestamp=ts, sender=sender, body=body,
                                     device="HE/3", start=pos + len(prefix), end=pos + len(prefix) + len(body)))
        text.append(prefix + body)
        pos += len(prefix + body) + 1
    full = "\n".join(text)
    at = full.index("07700 900418")
    ents = (Entity("PHONE_NUMBER", at, at + 12, "07700 900418", 0.9, "+447700900418"),)
    return Passage("c1", "k", "msgs.csv", "HE/3 / thread T1 / msgs m1–m3", full, 1.0, kind="messages",
                   meta={"messages": encode_records(records), "senders": "Kacper,Marek"}, entities=ents)


def test_mask_map_keeps_a_span_on_the_same_words() -> None:
    text = "WOLSKI drives a silver Vauxhall Corsa, registration LK19 XRT."
    ents = (Entity("PERSON", 0, 6, "WOLSKI", 0.9), Entity("UK_VEHICLE_REGISTRATION", 52, 60, "LK19 XRT", 0.9))
    masked, offsets = Masker().mask_mapped(text, ents)
    assert masked == "<PERSON_1> drives a silver Vauxhall Corsa, registration <UK_VEHICLE_REGISTRATION_1>."
    start, end = offsets.span(text.index("silver"), text.index("Corsa") + 5)
    assert masked[start:end] == "silver Vauxhall Corsa"
    start, end = offsets.span(2, len(text))  # a span starting inside a masked value never cuts its placeholder
    assert masked[start:end] == masked


def test_narrow_keeps_only_matching_messages_with_exact_offsets() -> None:
    passage = _messages_passage()
    narrowed = narrow_passage(passage, MARCH_MAREK)
    assert narrowed is not None
    recs = message_records(narrowed.meta)
    assert [r.message_id for r in recs] == ["m2", "m3"]
    assert "Kacper" not in narrowed.text and "garage" not in narrowed.text
    assert all(narrowed.text[r.start:r.end] == r.body for r in recs)
    (ent,) = narrowed.entities
    assert narrowed.text[ent.start:ent.end] == "07700 900418"
    assert narrow_passage(passage, RetrievalFilters(sender="Nobody")) is None
    assert narrow_passage(passage, RetrievalFilters(source="msgs.csv")) is passage


def test_message_citation_names_one_message() -> None:
    passage = _messages_passage()
    quote = "the fare is sixty pounds"
    cite = Citation(1, "c1", "msgs.csv", passage.locator, quote, passage.text, True, passage.text.index(quote))
    answer = pin_messages(Answer("q", "k", "answered", "x [1]", "extractive", (cite,), (passage,)))
    (pinned,) = answer.citations
    assert "msg m2" in pinned.locator and "Marek" in pinned.locator and "2023-03-10T16:05:07" in pinned.locator
    assert "m1" not in pinned.locator and "m3" not in pinned.locator
    html = passage_html(pinned, passage)
    assert html.count('class="cited"') == 1 and html.count("<mark") == 1


def _asked(app: Any, user: str, question: str, filters: RetrievalFilters | None = None) -> Answer:
    ensure_users(app)
    return Session.for_username(app, user).ask("kestrel", question, filters)


def test_masked_highlight_and_verified_come_from_one_span(demo_app: Any) -> None:
    for user in ("supervisor1", "reviewer1"):
        answer = _asked(demo_app, user, "What car does Marek Wolski drive?")
        assert answer.citations
        session = Session.for_username(demo_app, user)
        for c in answer.citations:
            passage = session.get_chunk("kestrel", c.chunk_id, context=answer)
            assert passage is not None
            span = locate_quote(passage.text, c.quote, c.quote_start)
            assert c.verified and span is not None, (user, c.quote)
            html = passage_html(c, passage)
            assert "<mark" in html and "not found verbatim" not in html


def test_filters_hold_per_message_and_are_audited(demo_app: Any) -> None:
    answer = _asked(demo_app, "supervisor1", "Where did Marek go?", MARCH_MAREK)
    assert answer.status == "answered" and answer.citations
    for p in answer.retrieved:
        for m in message_records(p.meta):
            assert m.sender == "Marek" and "2023-03-01" <= m.timestamp[:10] <= "2023-03-31"
    for c in answer.citations:
        assert " / msg " in c.locator and "from Marek" in c.locator and "/ 2023-03-" in c.locator
    record = demo_app.audit.records(kind="answer", user="supervisor1")[-1]
    assert record.payload["filters"]["sender"] == "Marek"
    assert record.payload["filters"]["date_from"] == "2023-03-01"
    assert all(c["locator"] and c["source"] for c in record.payload["citations"])
