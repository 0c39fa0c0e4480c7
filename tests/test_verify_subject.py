"""A paragraph's opening subject is lent to its later sentences that refer back with a pronoun
(assistant/verify/subject.py), through the real verifier."""

from __future__ import annotations

from assistant.config import AnswerSettings
from assistant.types import Passage
from assistant.verify.subject import named, opening_subject
from assistant.verify.verifier import verify_draft

PARAGRAPH = ("Ada Quill-Marrow is a painter from Norland. The Norland coast has many harbours. Fishing fleets sail "
             "from Vell every spring. The town hosts a wool market in May. She is noted for her large seascapes of "
             "the northern cliffs.")


def kept(claim: str, text: str = PARAGRAPH) -> bool:
    passage = Passage(chunk_id="p1", case="c", source="bio.txt", locator="", text=text, score=1.0, rank=1)
    result = verify_draft(claim, [passage], settings=AnswerSettings())
    return result.kept == 1 and not result.flagged


def test_a_pronoun_sentence_far_from_the_name_supports_a_claim_naming_the_subject() -> None:
    assert kept("Ada Quill-Marrow is noted for her large seascapes of the northern cliffs [1].")


def test_other_names_and_other_sentences_get_nothing_lent() -> None:
    assert not kept("Bo Quill-Marrow is noted for her large seascapes of the northern cliffs [1].")
    assert not kept("Ada Quill-Marrow hosts a wool market in May [1].")  # that sentence does not refer back
    plain = PARAGRAPH.replace("Ada Quill-Marrow is", "The painter Ada Quill-Marrow is")
    assert not kept("Ada Quill-Marrow is noted for her large seascapes of the northern cliffs [1].", plain)


def test_opening_subject() -> None:
    assert opening_subject("Deltha O'Neal (born 1977) is a former cornerback.") == "Deltha O'Neal"
    assert opening_subject("Anne of Cleves was queen.") == "Anne of Cleves"
    assert opening_subject("The band formed in 1990.") == ""
    assert opening_subject("On 3 May 2023 I saw a van.") == ""


def test_the_role_check_reads_the_pronoun_as_the_subject() -> None:
    text = ("Ada Quill-Marrow is a painter from Norland. The Norland coast has many harbours. Fishing fleets sail "
            "from Vell every spring. The town hosts a wool market in May. She has sold more than 300 seascapes.")
    assert kept("Ada Quill-Marrow has sold more than 300 seascapes [1].", text)
    assert not kept("Ada Quill-Marrow has bought more than 300 seascapes [1].", text)
    assert named("Her brother sang.", "Ada") == "Ada's brother sang." and named("He sang.", "") == "He sang."
