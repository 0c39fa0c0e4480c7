"""Role-gated masking of whole answers on the real demo case under the strict policy (`pii.mask_all_pii_roles`):
such roles see every PII entity as a placeholder, cleared roles clear text. Protected-person masking, the default
for other roles, is tested in tests/test_protected.py."""

from __future__ import annotations

import re
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _strict_reviewers(demo_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_app.settings.pii, "mask_all_pii_roles", ["reviewer"])


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


def _placeholders_by_entity(raw: Any, shown_text: str) -> list[tuple[Any, str]]:
    """Align a masked passage with its raw text: the raw segments between maskable entities must survive verbatim,
    and what replaced each entity is its placeholder."""
    ents, pos = [], 0
    for e in sorted(raw.entities, key=lambda e: (e.start, -(e.end - e.start))):
        if e.type != "DATE_TIME" and e.start >= pos:
            ents.append(e)
            pos = e.end
    pattern, pos = "", 0
    for e in ents:
        pattern += re.escape(raw.text[pos:e.start]) + r"(<[A-Z_]+_\d+>)"
        pos = e.end
    match = re.fullmatch(pattern + re.escape(raw.text[pos:]), shown_text, flags=re.S)
    assert match, raw.chunk_id
    return list(zip(ents, match.groups(), strict=True))


def test_placeholders_are_consistent_within_an_answer(demo_app: Any) -> None:
    answer = _ask_phone_question(demo_app)
    masked = demo_app.mask_answer(answer, "reviewer")
    by_value: dict[tuple[str, str], set[str]] = {}
    for raw, shown in zip(answer.retrieved, masked.retrieved, strict=True):
        for ent, placeholder in _placeholders_by_entity(raw, shown.text):
            assert placeholder.startswith(f"<{ent.type}_")
            by_value.setdefault((ent.type, ent.normalized or ent.text.lower()), set()).add(placeholder)
    phones = {k: v for k, v in by_value.items() if k[0] == "PHONE_NUMBER"}
    assert len(phones) >= 2
    assert all(len(v) == 1 for v in by_value.values()), by_value  # one value, one placeholder
    assert len({next(iter(v)) for v in phones.values()}) == len(phones)  # distinct numbers, distinct placeholders


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
