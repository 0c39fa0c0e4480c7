"""Display-time masking: consistent typed placeholders, dates left alone, cleared roles see clear text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.config import PiiSettings
from assistant.pii.masking import UNMASKED_TYPES, Masker
from assistant.pii.tagger import PiiTagger
from assistant.types import Entity


@pytest.fixture(scope="module")
def tagger() -> Iterator[PiiTagger]:
    yield PiiTagger(PiiSettings())


def test_same_value_same_placeholder_across_texts(tagger: PiiTagger) -> None:
    a = "Marek Nowak called 07700 900418 on 12/03/2023."
    b = "The number 07700900418 was saved as Boss. Ionut Popa used +44 7700 900999."
    masker = Masker()
    ma, mb = masker.mask(a, tagger.tag(a)), masker.mask(b, tagger.tag(b))
    assert "<PHONE_NUMBER_1>" in ma and "<PHONE_NUMBER_1>" in mb  # two written forms, one E.164 value
    assert "<PHONE_NUMBER_2>" in mb
    assert "07700" not in ma + mb and "Marek" not in ma
    assert "12/03/2023" in ma  # dates are evidence


def test_mask_with_hand_built_entities() -> None:
    text = "marek met Marek at 14:30"
    ents = [Entity("PERSON", 0, 5, "marek", 0.7), Entity("PERSON", 10, 15, "Marek", 0.85),
            Entity("DATE_TIME", 19, 24, "14:30", 0.6)]
    assert Masker().mask(text, ents) == "<PERSON_1> met <PERSON_1> at 14:30"
    assert "DATE_TIME" in UNMASKED_TYPES


def test_overlapping_or_out_of_range_spans_are_skipped() -> None:
    ents = [Entity("UK_ADDRESS", 0, 14, "14 Hartley Rd.", 0.7), Entity("UK_POSTCODE", 3, 10, "x", 0.5),
            Entity("PERSON", 40, 50, "nobody", 0.9)]
    assert Masker().mask("14 Hartley Rd. is here", ents) == "<UK_ADDRESS_1> is here"


def test_role_sees_clear() -> None:
    settings = PiiSettings()
    assert settings.sees_clear("supervisor") and settings.sees_clear("Admin")
    assert not settings.sees_clear("reviewer") and not settings.sees_clear("")
    assert PiiSettings(cleared_roles=["Reviewer "]).sees_clear("reviewer")
