"""Who did what to whom, on the real packaged spaCy md parse and (end to end) the real embedder: each corruption
kind is caught, true paraphrases are accepted. Neutral sentences only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import AnswerSettings, load_settings
from assistant.types import Passage
from assistant.verify.roles import conflict
from assistant.verify.verifier import verify_draft
from evals.corruption import inflect, negation, parse, role_swap, verb_opposite

HEADING = "Statement of Officer Ruth Okafor, 2 June 2024."
EVIDENCE = ("I arrested Tom Baker outside the library at noon. "
            "Lena Ortiz drove the blue Fiat to the depot. Carl Weber sold the bicycle to Nina Park.")


@pytest.mark.parametrize(("claim", "reason"), [
    ("Lena Ortiz drove the Fiat to the depot.", None),
    ("The Fiat was driven to the depot by Lena Ortiz.", None),  # passive paraphrase
    ("Nina Park bought the bicycle from Carl Weber.", None),  # the same transfer seen from the other end
    ("The bicycle was sold to Nina Park by Carl Weber.", None),
    ("Nina Park drove the Fiat to the depot.", "roles"),  # another named driver
    ("The depot drove Lena Ortiz.", "roles"),  # agent and patient swapped
    ("Nina Park sold the bicycle to Carl Weber.", "roles"),
    ("Lena Ortiz was driven to the depot by the Fiat.", "roles"),  # swapped, passive
    ("Carl Weber bought the bicycle.", "predicate"),  # converse verb, same doer
    ("Lena Ortiz walked from the Fiat.", "predicate"),  # the same person does something else in the evidence
    ("Lena Ortiz did not drive the Fiat to the depot.", "negation"),
])
def test_role_conflicts_on_third_person_evidence(claim: str, reason: str | None) -> None:
    assert conflict(claim, [EVIDENCE]) == reason


@pytest.mark.parametrize(("claim", "reason"), [
    ("Ruth Okafor arrested Tom Baker.", None),  # "I" is the statement's author, named in its heading
    ("Tom Baker was arrested by Officer Okafor.", None),
    ("Tom Baker arrested Ruth Okafor.", "roles"),
    ("Carl Weber arrested Tom Baker.", "roles"),  # a named agent who is not the narrator
    ("Ruth Okafor released Tom Baker.", "predicate"),  # opposite verb, same patient
])
def test_first_person_is_the_narrator(claim: str, reason: str | None) -> None:
    assert conflict(claim, [EVIDENCE], HEADING) == reason


def test_first_person_without_a_named_author_matches_no_named_agent() -> None:
    assert conflict("Ruth Okafor arrested Tom Baker.", [EVIDENCE]) == "roles"
    assert conflict("The officer arrested Tom Baker.", [EVIDENCE]) is None  # names nobody: cannot tell


def test_negation_is_checked_per_verb_not_per_window() -> None:
    evidence = ["The tenant signed the lease but did not pay the deposit."]
    assert conflict("The tenant did not sign the lease.", evidence) == "negation"
    assert conflict("The tenant did not pay the deposit.", evidence) is None
    assert conflict("The tenant signed the lease.", evidence) is None


def test_opposite_words_caught_without_a_verb_parse() -> None:
    assert conflict("It was the best buying album of 1999.", ["It was the best selling album of 1999."]) == "predicate"
    assert conflict("The shop opened in 1990.", ["The shop closed in 1990."]) == "predicate"
    assert conflict("The shop closed in 1990.", ["The shop closed in 1990."]) is None


def test_inflection_of_the_corruption_generator() -> None:
    assert [inflect("sell", t) for t in ("VBD", "VBN", "VBZ", "VBG", "VB")] == ["sold", "sold", "sells", "selling",
                                                                               "sell"]
    assert [inflect("release", t) for t in ("VBD", "VBZ", "VBG")] == ["released", "releases", "releasing"]
    assert inflect("deny", "VBD") == "denied" and inflect("deny", "VBZ") == "denies"


def test_corruption_generator_on_neutral_sentences() -> None:
    active, passive, plain = parse(["Lena Ortiz drove the Fiat to the depot.",
                                    "The bicycle was sold by Carl Weber.", "Nina Park opened the shop in 1990."])
    assert role_swap(active) == "The Fiat drove Lena Ortiz to the depot."
    assert role_swap(passive) == "Carl Weber was sold by the bicycle."
    assert verb_opposite(plain) == "Nina Park closed the shop in 1990."
    assert negation(plain) == "Nina Park did not open the shop in 1990."
    assert negation(passive) == "The bicycle was not sold by Carl Weber."


# ---- end to end: the verifier with the real embedder -------------------------------------------------------------
@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from assistant.index.embedding import Embedder

    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


PASSAGE = Passage("st-1", "k", "statements/okafor.txt", "p. 1", f"{HEADING}\n{EVIDENCE}", 0.9, 1)


@pytest.mark.parametrize(("claim", "kept"), [
    ("Ruth Okafor arrested Tom Baker [1].", True),
    ("Lena Ortiz drove the Fiat to the depot [1].", True),
    ("Ruth Okafor released Tom Baker [1].", False),
    ("Tom Baker arrested Ruth Okafor [1].", False),
    ("Lena Ortiz walked from the Fiat [1].", False),
])
def test_verify_draft_keeps_only_who_did_what(embedder: Any, claim: str, kept: bool) -> None:
    v = verify_draft(claim, [PASSAGE], embedder=embedder, settings=AnswerSettings())
    assert (v.kept == 1 and not v.flagged) is kept


@pytest.mark.parametrize(("claim", "reason"), [
    ("Ana told Ben to meet her at seven.", None),  # object control: Ben meets, "her" is Ana
    ("Ben told Ana to meet him at seven.", "roles"),  # Ana wrote it: Ben did not tell her
])
def test_a_message_body_is_said_by_its_sender(claim: str, reason: str | None) -> None:
    assert conflict(claim, ["meet me today at seven behind the old cinema"], "Ana") == reason
