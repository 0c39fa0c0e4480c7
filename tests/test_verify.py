"""The verifier: sentence units, draft parsing, and support checks that catch fabricated identifiers."""

from __future__ import annotations

import json

import pytest

from assistant.config import AnswerSettings
from assistant.text.quotes import locate_quote
from assistant.text.sentences import split_sentences
from assistant.types import Passage
from assistant.verify.verifier import UNSUPPORTED_PREFIX, VerifiedDraft, parse_draft, verify_draft

STATEMENT = (
    "Statement of DS Anil Patel, 4 May 2023.\n"
    "On 3 May 2023 at 14:30 I saw a white Ford Transit van, registration AB12 CDE, parked outside 14 Dock Road, "
    "Hull. The driver, Mark Ellison, was arrested at 14:45. Mr. Ellison gave his phone number as 07700 900418."
)
LINES = [
    ("2023-05-02 21:10", "Ellison", "bring the van to the dock tomorrow at 2"),
    ("2023-05-02 21:12", "Reyes", "ok boss, 2 bags ready"),
]


def message_passage() -> Passage:
    text, meta = "", []
    for i, (ts, sender, body) in enumerate(LINES):
        prefix = f"[{ts}] {sender}: "
        start = len(text) + len(prefix)
        text += prefix + body + "\n"
        meta.append({"message_id": f"m{i}", "start": start, "end": start + len(body)})
    return Passage("msg-1", "k", "phone/ellison.csv", "thread 7", text.rstrip("\n"), 0.8, 2, kind="messages",
                   meta={"messages": json.dumps(meta)})


PASSAGES = [
    Passage("stmt-1", "k", "statements/patel.txt", "p. 1", STATEMENT, 0.9, 1),
    message_passage(),
    Passage("cust-1", "k", "custody/ellison.txt", "p. 2",
            "Custody record for Mark Ellison. Smith drove the van to the station. Jones was also present.", 0.5, 3),
]
SETTINGS = AnswerSettings()


def verify(draft: str, *, mark_unsupported: bool = False) -> VerifiedDraft:
    return verify_draft(draft, PASSAGES, settings=SETTINGS, mark_unsupported=mark_unsupported)


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


# ---- sentences ---------------------------------------------------------------------------------------------------
def test_split_sentences_handles_abbreviations_times_decimals_and_initials() -> None:
    text = "Mr. J. Smith met PC Jones at 14:30. The bag (No. 5) held 3.5 kg. He said no. Then he left!"
    assert texts(text) == ["Mr. J. Smith met PC Jones at 14:30.", "The bag (No. 5) held 3.5 kg.", "He said no.",
                           "Then he left!"]


def test_split_sentences_lines_and_bullets_are_units() -> None:
    assert texts("- first item\n- second item.\n1. numbered\n[21:10] Ellison: ok\n[21:12] Reyes: done") == [
        "first item", "second item.", "numbered", "[21:10] Ellison: ok", "[21:12] Reyes: done"]
    assert texts("a wrapped line that\ncontinues here. Next.") == ["a wrapped line that\ncontinues here.", "Next."]


def test_locate_quote_normalises_case_whitespace_and_quote_style() -> None:
    span = locate_quote(STATEMENT, "the driver,   MARK ellison, was arrested")
    assert span is not None and STATEMENT[span[0] : span[1]] == "The driver, Mark Ellison, was arrested"
    span = locate_quote(STATEMENT, "I saw a white Ford Transit van ... parked outside 14 Dock Road")
    assert span is not None and STATEMENT[span[0] : span[1]].startswith("I saw a white")
    assert locate_quote(STATEMENT, "I saw a red Ford Transit") is None


# ---- parsing -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("draft", [
    "Ellison was arrested [1][2].", "Ellison was arrested [1, 2].", "Ellison was arrested. [1] [2]",
    "Ellison was arrested [Passage 1][2].", "Ellison was arrested [1-2].",
])
def test_parse_marker_styles(draft: str) -> None:
    claims, not_found = parse_draft(draft)
    assert [(c.text, c.refs) for c in claims] == [("Ellison was arrested.", (1, 2))]
    assert not not_found


def test_parse_prose_paragraph_quotes_and_not_found() -> None:
    claims, _ = parse_draft('A van was seen [1] "saw a white Ford Transit van". Ellison was held. He left [2].')
    assert [c.text for c in claims] == ["A van was seen.", "Ellison was held.", "He left."]
    assert claims[0].quotes == {1: ("saw a white Ford Transit van",)} and claims[1].refs == ()
    assert parse_draft("NOT FOUND")[1] and parse_draft("**NOT FOUND** in the passages.")[1]


# ---- support -----------------------------------------------------------------------------------------------------
def test_supported_claims_are_kept_with_verbatim_quotes() -> None:
    v = verify('DS Patel saw a white Ford Transit van (AB12 CDE) on 3 May 2023 [1] "saw a white ford transit van".\n'
               "Mark Ellison was arrested at 14:45 [1].")
    assert v.kept == 2 and not v.flagged
    assert v.text == ("DS Patel saw a white Ford Transit van (AB12 CDE) on 3 May 2023 [1].\n"
                      "Mark Ellison was arrested at 14:45 [2].")
    first, second = v.citations
    assert first.quote == "saw a white Ford Transit van" and first.verified
    assert STATEMENT[first.quote_start : first.quote_start + len(first.quote)] == first.quote
    assert "Mark Ellison, was arrested at 14:45" in second.quote and second.verified
    assert all(c.text == STATEMENT and c.chunk_id == "stmt-1" for c in (first, second))


@pytest.mark.parametrize("claim", [
    "Mark Ellison was arrested at 15:45 [1].",  # time
    "Ellison gave his phone number as 07700 900419 [1].",  # phone number
    "The van's registration was AB12 CDF [1].",  # registration
    "On 4 May 2023 DS Patel saw a white Ford Transit van [1].",  # date
    "The driver, Mark Hollis, was arrested [1].",  # surname
    "The driver, John Ellison, was arrested [1].",  # first name (as a phrase)
    "DS Patel saw a white Ford Transit van outside 41 Dock Road [1].",  # house number
    "The driver, Mark Ellison, was not arrested [1].",  # negation
])
def test_fabricated_identifiers_are_flagged(claim: str) -> None:
    v = verify(claim)
    assert v.kept == 0 and v.flagged == (claim.replace(" [1]", ""),)
    assert v.citations == () and v.text == ""


def test_phone_numbers_compare_digit_normalised() -> None:
    v = verify("Ellison gave his phone number as 07700900418 [1]. Ellison gave the number +44 7700 900418 [1].")
    assert v.kept == 2


def test_uncited_claims_removed_and_bad_markers_dropped() -> None:
    v = verify("Mark Ellison was arrested at 14:45. Ellison was arrested at 14:45 [9]. "
               "Mark Ellison was arrested at 14:45 [9][1].")
    assert v.kept == 1 and len(v.flagged) == 2 and v.dropped_refs == (9,)
    assert v.text == "Mark Ellison was arrested at 14:45 [1]."


def test_evidence_from_other_sentences_does_not_lend_names() -> None:
    assert verify("Smith drove the van to the station [3].").kept == 1
    assert verify("Jones drove the van to the station [3].").kept == 0


def test_message_lines_include_sender_and_timestamp() -> None:
    v = verify("Reyes said 2 bags were ready [2].")
    assert v.kept == 1 and v.citations[0].quote == "[2023-05-02 21:12] Reyes: ok boss, 2 bags ready"
    assert verify("Ellison said 3 bags were ready [2].").kept == 0


def test_wrong_quote_falls_back_to_verbatim_sentence_with_note() -> None:
    v = verify('Mark Ellison was arrested at 14:45 [1] "Ellison was detained at quarter to three".')
    assert v.kept == 1 and v.citations[0].verified
    assert v.citations[0].quote in STATEMENT and v.notes


def test_mark_unsupported_keeps_claim_visibly_without_marker() -> None:
    v = verify("Mark Ellison was arrested at 14:45 [1].\nThe suspect was innocent [1].", mark_unsupported=True)
    assert v.text == f"Mark Ellison was arrested at 14:45 [1].\n{UNSUPPORTED_PREFIX}The suspect was innocent."
    assert v.flagged == ("The suspect was innocent.",)


# ---- re-citing a claim to the passage that states it ---------------------------------------------------------------
SIGHTINGS = [
    Passage("s-1", "k", "logs/sightings.txt", "line 4", "On 3 May DC Rowe saw the white van in Hull.", 0.7, 1),
    Passage("s-2", "k", "statements/rowe.txt", "p. 1",
            "On 3 May DC Rowe saw the white van in Hull leaving the dock at speed.", 0.6, 2),
    Passage("s-3", "k", "statements/rowe-copy.txt", "p. 1",
            "On 3 May DC Rowe saw the white van in Hull leaving the dock at speed.", 0.5, 3),
]
CLAIM = "On 3 May DC Rowe saw the white van in Hull leaving the dock at speed"


def test_claim_cited_to_a_weaker_passage_is_recited_to_the_one_that_states_it() -> None:
    v = verify_draft(f"{CLAIM} [1].", SIGHTINGS, settings=SETTINGS)
    assert v.kept == 1 and v.moved == 1 and not v.flagged
    (cite,) = v.citations
    assert cite.chunk_id in ("s-2", "s-3") and cite.verified and "leaving the dock" in cite.quote
    assert "re-cited" in cite.note and "passage 1" in cite.note and cite.note in v.notes


def test_claim_cited_to_its_own_passage_or_an_equal_copy_is_not_moved() -> None:
    for n in (2, 3):
        v = verify_draft(f"{CLAIM} [{n}].", SIGHTINGS, settings=SETTINGS)
        assert v.kept == 1 and v.moved == 0 and v.citations[0].chunk_id == f"s-{n}" and not v.citations[0].note
    short = verify_draft("On 3 May DC Rowe saw the white van in Hull [1].", SIGHTINGS, settings=SETTINGS)
    assert short.kept == 1 and short.moved == 0 and short.citations[0].chunk_id == "s-1"


def test_unsupported_claim_is_flagged_not_rescued_by_another_passage() -> None:
    v = verify_draft(f"{CLAIM} [4].", [*SIGHTINGS, PASSAGES[2]], settings=SETTINGS)
    assert v.kept == 0 and v.moved == 0 and v.flagged == (CLAIM + ".",) and v.citations == ()


def test_an_untranslated_message_is_never_evidence() -> None:
    text = "[2023-03-14 15:20] Marek: dzisiaj o siódmej za stacją benzynową"
    start = text.index("dzisiaj")
    meta = {"messages": json.dumps([{"message_id": "m1", "language": "pl", "translation": "", "start": start,
                                     "end": len(text)}])}
    polish = Passage("pl-1", "k", "phone/HE3.csv", "thread 1", text, 0.7, 1, kind="messages", meta=meta)
    claim = "Marek wrote dzisiaj o siódmej za stacją benzynową"
    v = verify_draft(f"{claim} [1].", [polish], settings=SETTINGS)
    assert v.kept == 0 and v.flagged == (claim + ".",)
    translated = {"messages": meta["messages"].replace('"translation": ""', '"translation": "today at seven"')}
    ok = verify_draft(f"{claim} [1].", [Passage("pl-1", "k", "phone/HE3.csv", "thread 1", text, 0.7, 1,
                                                kind="messages", meta=translated)], settings=SETTINGS)
    assert ok.kept == 1  # the same words are evidence once a translation exists


def test_reciting_is_switched_by_the_settings() -> None:
    """Re-citing is a setting (the benchmark switches it there): off, the claim keeps the passage the model cited."""
    off = verify_draft(f"{CLAIM} [1].", SIGHTINGS, settings=SETTINGS.model_copy(update={"recite": False}))
    assert off.kept == 1 and off.moved == 0 and off.citations[0].chunk_id == "s-1" and not off.citations[0].note
