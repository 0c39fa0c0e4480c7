"""Person digests over every passage naming the person: grouped, in time order, every line cited verbatim, gaps
stated. Real App over the demo case (`demo_app`), as a supervisor (clear) and a reviewer (masked)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.access.session import Session
from assistant.conversation.digest_request import digest_request, period_bounds
from assistant.text.quotes import locate_quote
from assistant.types import Answer
from tests.test_citation_spans import ensure_users

_CITE = re.compile(r"\[(\d+)\]$")


@pytest.mark.parametrize(("question", "person", "start", "end"), [
    ("Summarise what Marek Wolski did in March 2023", "Marek Wolski", "2023-03-01", "2023-03-31"),
    ("What did Marek Wolski do in February 2024?", "Marek Wolski", "2024-02-01", "2024-02-29"),
    ("What do we know about Marek Wolski?", "Marek Wolski", "", ""),
    ("Tell me about Kacper", "Kacper", "", ""),
    ("Summarise what Imran did on 21 January 2023", "Imran", "2023-01-21", "2023-01-21"),
    ("Could you please summarise what Jane Doe did in May 2021?", "Jane Doe", "2021-05-01", "2021-05-31"),
    ("Summarize John Smith's activity in 2020", "John Smith", "2020-01-01", "2020-12-31"),
    ("Give me an overview of Jane Doe", "Jane Doe", "", ""),
    ("What do we have on John Smith?", "John Smith", "", ""),
    ("Tell me what we know about Jane Doe", "Jane Doe", "", ""),
    ("What has John Smith been up to in June 2022?", "John Smith", "2022-06-01", "2022-06-30"),
    ("What was Jane Doe doing in July 2022?", "Jane Doe", "2022-07-01", "2022-07-31"),
])
def test_digest_requests(question: str, person: str, start: str, end: str) -> None:
    request = digest_request(question)
    assert request is not None and (request.person, request.start, request.end) == (person, start, end)


@pytest.mark.parametrize("question", ["Who is Marek Wolski?", "What did Marek say about the fare?",
                                      "Summarise the case", "Summarise what Marek did in the spring",
                                      "What was Jane Doe doing at the station?", "Can you tell me who called?",
                                      "What did John Smith do at the petrol station?"])
def test_other_questions_take_the_ordinary_path(question: str) -> None:
    assert digest_request(question) is None
    assert period_bounds("in the spring") is None


def _lines(answer: Answer) -> list[str]:
    return [line for line in answer.answer.splitlines() if line.startswith("- ") and "… and" not in line]


def _every_line_cited_and_verbatim(session: Session, answer: Answer) -> None:
    lines = _lines(answer)
    cited = [line for line in lines if _CITE.search(line)]
    gaps = [line for line in lines if line.startswith("- no ") and " found in " in line and not _CITE.search(line)]
    assert len(cited) + len(gaps) == len(lines) and cited
    assert [int(_CITE.search(line).group(1)) for line in cited] == [c.n for c in answer.citations]  # type: ignore[union-attr]
    for c in answer.citations:
        passage = session.get_chunk(answer.case, c.chunk_id, context=answer)
        assert passage is not None and c.verified
        assert locate_quote(passage.text, c.quote, c.quote_start) is not None, c.quote


@pytest.mark.parametrize("user", ["supervisor1", "reviewer1"])
def test_month_summary_every_line_cited_in_time_order(demo_app: Any, user: str) -> None:
    ensure_users(demo_app)
    session = Session.for_username(demo_app, user)
    answer = session.ask("kestrel", "Summarise what Marek Wolski did in March 2023")
    assert answer.status == "answered" and answer.answer.startswith("Events in time order:")
    _every_line_cited_and_verbatim(session, answer)
    days = [line[2:12] for line in _lines(answer)]
    assert days == sorted(days) and all("2023-03-01" <= d <= "2023-03-31" for d in days)
    assert len({c.chunk_id for c in answer.citations}) > demo_app.settings.retrieval.top_k  # not the top 8
    for c in answer.citations:
        if c.source.endswith(".csv"):
            assert " / msg HE3-" in c.locator and "2023-03-" in c.locator
    record = demo_app.audit.records(kind="answer", user=user)[-1]
    assert record.payload["backend"] == "extractive-digest" and len(record.payload["citations"]) == len(days)


def test_profile_groups_and_stated_gaps(demo_app: Any) -> None:
    session = Session.for_username(demo_app, "supervisor1")
    answer = session.ask("kestrel", "What do we know about Marek Wolski?")
    text = answer.answer
    heads = [h for h in ("Identity and aliases:", "Numbers and devices:", "Vehicles:", "Events in time order:")
             if h in text]
    assert heads == ["Identity and aliases:", "Numbers and devices:", "Vehicles:", "Events in time order:"]
    assert "11/09/1994" in text and "07700 900418" in text and "LK19 XRT" in text
    _every_line_cited_and_verbatim(session, answer)
    imran = session.ask("kestrel", "What do we know about Imran?")
    assert re.search(r"- no date of birth found in \d+ source\(s\) naming Imran", imran.answer)
    _every_line_cited_and_verbatim(session, imran)
    nobody = session.ask("kestrel", "What do we know about Zebedee Quantock?")
    assert nobody.status == "no_evidence" and not nobody.citations
