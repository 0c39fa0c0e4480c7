"""Role-gated masking of whole answers on the real demo case: reviewers see placeholders, cleared roles clear text."""

from __future__ import annotations

import re
from typing import Any

PHONE = re.compile(r"(?:\+44\s?7700|07700)\s?900\s?\d{3}")


def _ask_phone_question(demo_app: Any) -> Any:
    answer = demo_app.ask("kestrel", "Who was using the phone number 07700 900418?")
    assert any(PHONE.search(p.text) for p in answer.retrieved), "demo passages should hold phone numbers"
    return answer


def test_reviewer_sees_typed_placeholders_everywhere(demo_app: Any) -> None:
    answer = _ask_phone_question(demo_app)
    masked = demo_app.mask_answer(answer, "reviewer")
    for p in masked.retrieved:
        assert not PHONE.search(p.text), p.chunk_id
    for c in masked.citations:
        assert not PHONE.search(c.quote) and not PHONE.search(c.text)
    assert not PHONE.search(masked.answer)
    assert "<PHONE_NUMBER_" in " ".join(p.text for p in masked.retrieved)


def test_placeholders_are_consistent_within_an_answer(demo_app: Any) -> None:
    answer = _ask_phone_question(demo_app)
    masked = demo_app.mask_answer(answer, "reviewer")
    seen: dict[str, set[str]] = {}
    for raw, shown in zip(answer.retrieved, masked.retrieved, strict=True):
        for ent in raw.entities:
            if ent.type == "PHONE_NUMBER":
                placeholders = set(re.findall(r"<PHONE_NUMBER_\d+>", shown.text))
                seen.setdefault(ent.normalized or ent.text, set()).update(placeholders)
    assert seen
    numbers = {n: min(ph) for n, ph in seen.items() if ph}
    assert len(set(numbers.values())) == len(numbers)  # distinct numbers, distinct placeholders


def test_cleared_role_sees_the_same_passages_in_clear(demo_app: Any) -> None:
    answer = _ask_phone_question(demo_app)
    clear = demo_app.mask_answer(answer, "supervisor")
    assert clear == answer
    passage = answer.retrieved[0]
    assert demo_app.mask_passage(passage, "admin") == passage
    assert demo_app.mask_passage(passage, "reviewer").text != passage.text or not passage.entities


def test_citation_verification_ran_on_unmasked_text(demo_app: Any) -> None:
    answer = _ask_phone_question(demo_app)
    for c in answer.citations:
        assert c.verified and c.quote in c.text
