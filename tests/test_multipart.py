"""Questions that ask several things are split into one standalone question per part; each part is answered or
said to be missing. Splitting on strings; answering through the real App over the demo case (`demo_app`)."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.conversation.multipart import combine, split_parts
from assistant.types import Answer, Citation, Passage


@pytest.mark.parametrize(("question", "parts"), [
    ("Who was arrested on 22 March 2023, where, and what was found in the car?",
     ["Who was arrested on 22 March 2023?", "Where was the person arrested on 22 March 2023?",
      "What was found in the car on 22 March 2023?"]),
    ("When and where was Marek Wolski arrested?",
     ["When was Marek Wolski arrested?", "Where was Marek Wolski arrested?"]),
    ("Which vehicle has the registration KM68 WRV and who drives it?",
     ["Which vehicle has the registration KM68 WRV?", "Who drives KM68 WRV?"]),
    ("Who is Marek and where does he live?", ["Who is Marek?", "Where does Marek live?"]),
    ("Who sold the phone, when, and for how much?",
     ["Who sold the phone?", "When (sold the phone)?", "For how much (sold the phone)?"]),
    ("Who offered new SIM cards and a phone?", []),
    ("What did Marek say about the fare?", []),
])
def test_split_parts(question: str, parts: list[str]) -> None:
    assert split_parts(question) == parts


def _answer(q: str, status: str, cites: int) -> Answer:
    p = Passage(f"c-{q}", "k", "s.txt", "lines 1-2", "WOLSKI was arrested at 21:07 on the Dunford Road.", 1.0)
    citations = tuple(Citation(n, p.chunk_id, p.source, p.locator, "WOLSKI was arrested", p.text, True, 0)
                      for n in range(1, cites + 1))
    text = " ".join(f"claim [{c.n}]." for c in citations) or "Not found"
    return Answer(q, "k", status, text, "extractive", citations, (p,))  # type: ignore[arg-type]


def test_combine_renumbers_and_names_the_missing_part() -> None:
    parts = ["Who was arrested?", "Where?", "What was found?"]
    out = combine("q", "k", parts, [_answer("a", "answered", 2), _answer("b", "answered", 1),
                                    _answer("c", "no_evidence", 0)])
    assert out.status == "answered" and [c.n for c in out.citations] == [1, 2, 3]
    lines = out.answer.splitlines()
    assert lines == ["Who was arrested? claim [1]. claim [2].", "Where? claim [3].",
                     "What was found? Not found in the case material."]
    assert any("not found for: What was found?" in n for n in out.notes)


def test_every_part_is_answered_or_said_missing(demo_app: Any) -> None:
    answer = demo_app.ask("kestrel", "When and where was Marek Wolski arrested?")
    lines = answer.answer.splitlines()
    assert [line.split("?")[0] + "?" for line in lines] == ["When was Marek Wolski arrested?",
                                                            "Where was Marek Wolski arrested?"]
    assert all("[" in line or "Not found in the case material" in line for line in lines)
    assert all(c.verified for c in answer.citations)
    assert sorted(c.n for c in answer.citations) == list(range(1, len(answer.citations) + 1))
