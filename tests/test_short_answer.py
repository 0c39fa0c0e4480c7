"""Answer, then attribute: the model writes only the short answer (ScriptedBackend through the real Backend
interface); the real answerer finds the retrieved sentences holding it and the real verifier and embedder check them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import Answerer
from assistant.answer.prompts import PROMPT_VERSION
from assistant.answer.short import SHORT_MAX_TOKENS, SHORT_PROMPT_VERSION, short_value
from assistant.config import Settings, load_settings
from assistant.index.embedding import Embedder
from assistant.types import Answer, Passage
from assistant.verify.attribute import answer_terms, coverage, is_yes_no_question
from tests.fakes import ScriptedBackend
from tests.test_extractive import case_passages

MILL = ("Harlow Mill was built in 1841 by the engineer Tobias Grane. It was converted into flats in 1987 after the "
        "weaving trade collapsed.")
GRANE = ("Tobias Grane (1803-1870) was an engineer born in Leeds. He trained under his uncle and later designed "
         "three bridges over the river Aire.")
WEAVER = ("Clara Voss (1812-1880) was a weaver born in Leeds. She ran the looms at Harlow Mill for thirty years.")
ORCHARD = "The orchard behind the chapel grows pears and plums. Its gate is painted green every spring."


def bridge_passages() -> list[Passage]:
    return [Passage(f"p{i}", "k", f"notes/{i}.txt", "p. 1", text, 0.9 - i / 10, i + 1)
            for i, text in enumerate((MILL, GRANE, WEAVER, ORCHARD))]


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


def short_settings(style: str = "short") -> Settings:
    s = load_settings()
    s.llm.answer_style = style  # type: ignore[assignment]
    return s


def ask(reply: str, question: str, embedder: Embedder, passages: list[Passage] | None = None,
        s: Settings | None = None, backend: ScriptedBackend | None = None) -> tuple[Answer, ScriptedBackend]:
    backend = backend or ScriptedBackend([reply], model="small")
    answer = Answerer(s or short_settings(), backend, embedder).answer(question, "k", passages or case_passages())
    return answer, backend


def test_the_short_answer_is_cited_with_the_sentence_that_holds_it(embedder: Embedder) -> None:
    answer, backend = ask("Answer: 14:45 [1].", "What time was Mark Ellison arrested?", embedder)
    assert answer.status == "answered" and answer.backend == "fake" and answer.model == "small"
    assert answer.prompt_version == SHORT_PROMPT_VERSION
    assert answer.answer.startswith("14:45: The driver, Mark Ellison, was arrested at 14:45 [1]")
    assert answer.citations[0].chunk_id == "stmt-1" and "arrested at 14:45" in answer.citations[0].quote
    assert all(c.verified and c.quote in c.text for c in answer.citations)
    assert answer.flagged_claims == ()
    user = backend.prompts[0][1]["content"]
    assert "statements/patel.txt" in user  # passages given as data blocks
    assert "short answer only" in user and "Never reply Yes or No" in user  # the product states the answer's form
    assert backend.calls[0]["max_tokens"] == SHORT_MAX_TOKENS


def test_an_answer_no_retrieved_sentence_holds_is_removed_and_named(embedder: Embedder) -> None:
    answer, _ = ask("16:20", "What time was Mark Ellison arrested?", embedder)
    assert answer.flagged_claims == ("16:20",)
    assert any("“16:20” was removed" in note for note in answer.notes)
    assert "16:20" not in answer.answer  # the extractive answer is shown instead, said so
    assert answer.backend == "extractive" and answer.prompt_version == SHORT_PROMPT_VERSION


def test_a_bridge_answer_cites_the_sentence_holding_it_and_the_linked_passage(embedder: Embedder) -> None:
    question = "In which city was the engineer who built Harlow Mill born?"
    answer, _ = ask("Leeds", question, embedder, bridge_passages())
    assert answer.status == "answered" and answer.answer.startswith("Leeds: ")
    cited = {c.chunk_id for c in answer.citations}
    assert "p1" in cited  # "... an engineer born in Leeds" (Grane), ranked above the weaver's sentence
    assert cited <= {"p0", "p1", "p2"} and "p3" not in cited


def test_yes_no_stands_on_verified_sentences_of_both_sides(embedder: Embedder) -> None:
    question = "Were Tobias Grane and Clara Voss both born in Leeds?"
    answer, backend = ask("Yes, both were born in Leeds.", question, embedder, bridge_passages())
    assert "This is a yes/no question. Reply with only Yes or No." in backend.prompts[0][1]["content"]
    assert answer.status == "answered" and answer.answer.startswith("Yes: ")
    assert {c.chunk_id for c in answer.citations} == {"p1", "p2"}
    assert all(c.verified for c in answer.citations)


def test_yes_to_a_question_that_is_not_yes_no_is_removed(embedder: Embedder) -> None:
    answer, _ = ask("Yes", "Who built Harlow Mill?", embedder, bridge_passages())
    assert answer.flagged_claims == ("Yes",) and not answer.answer.startswith("Yes")


def test_not_found_with_weak_evidence_refuses(embedder: Embedder) -> None:
    answer, _ = ask("NOT FOUND", "What colour is the gate of the orchard?", embedder, bridge_passages(),
                    s=_strict(short_settings()))
    assert answer.status == "no_evidence" and answer.prompt_version == SHORT_PROMPT_VERSION


def _strict(s: Settings) -> Settings:
    s.answer.strong_margin = 1.0  # the model's NOT FOUND is never overridden by the extractive answer
    return s


def test_auto_style_uses_short_answers_for_the_local_model_only(embedder: Embedder) -> None:
    local = ScriptedBackend(["14:45"])
    local.name = "llamacpp"
    question = "What time was Mark Ellison arrested?"
    answer, _ = ask("", question, embedder, s=short_settings("auto"), backend=local)
    assert answer.prompt_version == SHORT_PROMPT_VERSION and answer.answer.startswith("14:45: ")
    draft = 'Mark Ellison was arrested at 14:45 [1] "The driver, Mark Ellison, was arrested at 14:45".'
    other, _ = ask(draft, question, embedder, s=short_settings("auto"))
    assert other.prompt_version == PROMPT_VERSION and other.answer.startswith("Mark Ellison was arrested at 14:45")


def test_short_value_reads_the_answer_line() -> None:
    yn = "Were Tobias Grane and Clara Voss both born in Leeds?"
    assert short_value("**Answer:** \"Tobias Grane\" [2].\nbecause ...", "Who?") == "Tobias Grane"
    assert short_value("NOT FOUND", "Who?") == "" and short_value("\n  \n", "Who?") == ""
    assert short_value("Yes, both were.", yn) == "Yes" and short_value("no.", yn) == "No"
    assert short_value("No Doubt", "Which band recorded it?") == "No Doubt"  # not a yes/no question
    assert is_yes_no_question(yn) and not is_yes_no_question("Is Leeds or Hull larger?")


def test_attribution_terms_need_numbers_exactly_and_words_by_stem() -> None:
    assert coverage(answer_terms("1841"), MILL) == 1.0 and coverage(answer_terms("1842"), MILL) == 0.0
    assert coverage(answer_terms("converted flat"), MILL) == 1.0  # "flats" by stem
    assert coverage(answer_terms("the 1987 flats conversion"), MILL) == pytest.approx(2 / 3)  # "conversion" absent


def test_the_short_path_gates_at_its_own_lower_support(embedder: Embedder) -> None:
    """Between `short_min_support` and `min_support` the local model is asked on the short path (its answer must
    still be found and verified) while the claims path refuses without asking; below both, neither asks."""
    from assistant.answer.extractive import score_sentences

    question = "In which city was the engineer who built Harlow Mill born?"
    best = score_sentences(question, bridge_passages(), embedder=embedder)[0].support
    assert best > 0.1
    for style, gate, asked in (("short", best - 0.05, True), ("claims", best - 0.05, False),
                               ("short", best + 0.01, False)):
        s = short_settings(style)
        s.answer.min_support = s.answer.min_support_identifiers = best + 0.05
        s.answer.short_min_support = gate
        answer, backend = ask("Leeds", question, embedder, bridge_passages(), s=s)
        assert bool(backend.calls) is asked, (style, gate)
        assert (answer.status == "answered") is asked
        assert answer.answer.startswith("Leeds: ") is asked
