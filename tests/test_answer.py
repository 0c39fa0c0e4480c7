"""The Answerer with a ScriptedBackend (a real Backend that replays replies) and the real embedder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import MODEL_NOT_FOUND, NO_VERIFIABLE, Answerer
from assistant.answer.extractive import score_sentences
from assistant.answer.prompts import PROMPT_VERSION
from assistant.config import Settings, load_settings
from assistant.index.embedding import Embedder
from assistant.types import Answer, Passage
from tests.fakes import ScriptedBackend
from tests.test_extractive import STATEMENT, case_passages

QUESTION = "What time was Mark Ellison arrested?"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


def settings(**answer: float) -> Settings:
    s = load_settings()
    for key, value in answer.items():
        setattr(s.answer, key, value)
    return s


def run(backend: ScriptedBackend | None, embedder: Embedder, question: str = QUESTION,
        s: Settings | None = None, passages: list[Passage] | None = None) -> tuple[list[str], Answer]:
    items = list(Answerer(s or settings(), backend, embedder).stream(question, "k", passages or case_passages()))
    final = items[-1]
    assert isinstance(final, Answer) and all(isinstance(x, str) for x in items[:-1])
    return [x for x in items[:-1] if isinstance(x, str)], final


def test_well_behaved_draft_is_kept_and_streamed(embedder: Embedder) -> None:
    draft = 'Mark Ellison was arrested at 14:45 [1] "The driver, Mark Ellison, was arrested at 14:45".'
    backend = ScriptedBackend([draft], model="test-model")
    deltas, answer = run(backend, embedder)
    assert "".join(deltas) == draft and len(deltas) > 1
    assert answer.status == "answered" and answer.answer == "Mark Ellison was arrested at 14:45 [1]."
    cite = answer.citations[0]
    assert cite.quote == "The driver, Mark Ellison, was arrested at 14:45" and cite.verified
    assert answer.citations[0].chunk_id == "stmt-1" and answer.citations[0].text == STATEMENT
    assert answer.backend == "fake" and answer.model == "test-model" and answer.prompt_version == PROMPT_VERSION
    assert answer.flagged_claims == () and len(backend.prompts) == 1


def test_invented_claim_is_removed_and_flagged(embedder: Embedder) -> None:
    draft = ("Mark Ellison was arrested at 14:45 [1].\n"
             "Ellison was carrying a knife registered to AB99 XYZ [1].\n"
             "Reyes was arrested at 14:50 [7].")
    _, answer = run(ScriptedBackend([draft]), embedder)
    assert answer.status == "answered" and answer.answer == "Mark Ellison was arrested at 14:45 [1]."
    assert answer.flagged_claims == ("Ellison was carrying a knife registered to AB99 XYZ.",
                                     "Reyes was arrested at 14:50.")
    assert len(answer.citations) == 1 and all(c.verified for c in answer.citations)
    assert any("2 claim(s) removed" in n for n in answer.notes) and any("[7]" in n for n in answer.notes)
    removed = next(n for n in answer.notes if "claim(s) removed" in n)  # the reader is told which claims went
    assert "“Ellison was carrying a knife registered to AB99 XYZ.”" in removed
    assert "“Reyes was arrested at 14:50.”" in removed


def test_nothing_verifiable_falls_back_to_extractive(embedder: Embedder) -> None:
    _, answer = run(ScriptedBackend(["Ellison was arrested by PC Smith at 16:00 on 9 June [1]. He confessed."]),
                    embedder)
    assert answer.status == "answered" and answer.backend == "extractive" and NO_VERIFIABLE in answer.notes
    assert answer.citations[0].quote == "The driver, Mark Ellison, was arrested at 14:45." and answer.model
    assert len(answer.flagged_claims) == 2


def test_not_found_with_weak_evidence_is_no_evidence(embedder: Embedder) -> None:
    best = score_sentences(QUESTION, case_passages(), embedder=embedder)[0].support
    _, answer = run(ScriptedBackend(["NOT FOUND"]), embedder, s=settings(min_support=best - 0.05))
    assert answer.status == "no_evidence" and answer.citations == ()
    assert answer.answer.startswith("Not found in the case material")


def test_not_found_with_strong_evidence_shows_extractive(embedder: Embedder) -> None:
    best = score_sentences(QUESTION, case_passages(), embedder=embedder)[0].support
    _, answer = run(ScriptedBackend(["NOT FOUND"]), embedder, s=settings(min_support=max(0.0, best - 0.3)))
    assert answer.status == "answered" and MODEL_NOT_FOUND in answer.notes and answer.citations


def test_gate_refuses_without_calling_the_model(embedder: Embedder) -> None:
    backend = ScriptedBackend([])
    _, answer = run(backend, embedder, question="What was the weather like in Paris during the opera festival?")
    assert answer.status == "no_evidence" and backend.prompts == [] and answer.citations == ()
    assert any("the model was not asked" in n for n in answer.notes)


def test_extractive_backend_and_backend_failure(embedder: Embedder) -> None:
    deltas, answer = run(None, embedder)
    assert answer.backend == "extractive" and answer.status == "answered" and deltas == [answer.answer]
    _, failed = run(ScriptedBackend([ConnectionError("down")]), embedder)
    assert failed.status == "answered" and failed.backend == "extractive"
    assert any("ConnectionError" in n for n in failed.notes)


def test_answer_returns_final_of_stream(embedder: Embedder) -> None:
    answer = Answerer(settings(), ScriptedBackend(["Mark Ellison was arrested at 14:45 [1]."]), embedder).answer(
        QUESTION, "k", case_passages())
    assert answer.status == "answered" and answer.to_json()["citations"][0]["verified"] is True


def test_untranslated_messages_among_the_retrieved_are_named_in_a_note(embedder: Embedder) -> None:
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.tokenizer import load_tokenizer
    from assistant.loaders.messages import load_messages

    csv = ("message_id,timestamp,sender,recipient,language,body,translation\n"
           "m1,2023-03-14T15:20:03,Marek,Kacper,pl,dzisiaj o siódmej za stacją benzynową,\n"
           "m2,2023-03-14T15:21:00,Marek,Kacper,ro,vino singur,come alone\n"
           "m3,2023-03-14T15:22:00,Kacper,Marek,en,ok,\n"
           "m4,2023-03-14T15:23:00,Marek,Kacper,pl,nie mów mamie,\n")
    doc, _ = load_messages(csv.encode(), "phone/HE3.csv", "0" * 64, jsonl=False)
    chunks = chunk_document(doc, "k", load_tokenizer(), load_settings())
    passages = [Passage(c.chunk_id, "k", c.source, c.locator, c.text, 0.5, i + 1, kind="messages", meta=c.meta)
                for i, c in enumerate(chunks)]
    _, answer = run(None, embedder, "Where did Marek tell Kacper to meet him?", passages=passages)
    note = next(n for n in answer.notes if "no English translation" in n)
    assert note.startswith("2 retrieved message(s)") and "(pl 2; ids m1, m4)" in note
    assert "siódmej" not in " ".join(answer.notes)  # counts only, never message text
    _, told = run(None, embedder, "What did Marek tell Kacper?", passages=passages)
    assert told.citations and all("siódmej" not in c.quote and "mamie" not in c.quote for c in told.citations)
    _, plain = run(None, embedder)
    assert not any("no English translation" in n for n in plain.notes)


def test_model_reads_only_its_passage_limit_and_cannot_cite_beyond_it(embedder: Embedder) -> None:
    backend = ScriptedBackend(["Ellison was released on bail on 5 May 2023 [3]. "
                               "Mark Ellison was arrested at 14:45 [1]."])
    backend.max_passages = 2
    answer = Answerer(settings(), backend, embedder).answer(QUESTION, "k", case_passages())
    prompt = backend.prompts[0][1]["content"]
    assert "14 Dock Road" in prompt and "released on bail" not in prompt  # passage 3 was not shown
    assert answer.backend == "fake" and len(answer.retrieved) == 3
    assert [c.chunk_id for c in answer.citations] == ["stmt-1"]
    assert "released on bail" not in answer.answer  # [3] pointed past what the model read


def _messages_passage(lines: list[tuple[str, str, str]]) -> Passage:
    """A message chunk as the chunker lays it out: "[timestamp] sender → recipient: text" lines plus records."""
    text, records = "", []
    for i, (ts, who, body) in enumerate(lines):
        prefix = f"[{ts}] {who}: "
        start = len(text) + len(prefix)
        text += prefix + body + "\n"
        records.append({"message_id": f"m{i}", "start": start, "end": start + len(body)})
    return Passage("msg-1", "k", "phones/device2.csv", "thread 2, msgs 4-6", text.rstrip("\n"), 0.8, 1,
                   kind="messages", meta={"messages": json.dumps(records)})


MEETING = _messages_passage([
    ("2024-11-05T18:02:11+00:00", "Ben → Ana", "are we still on for the delivery"),
    ("2024-11-06T21:40:12+00:00", "Ana → Ben", "meet me today at seven behind the old cinema"),
    ("2024-11-06T21:42:30+00:00", "Ben → Ana", "ok bring the bag"),
])
MEETING_Q = "Where did Ana tell Ben to meet her on 6 November?"


def test_the_model_reads_message_dates_written_out_and_a_dated_claim_verifies(embedder: Embedder) -> None:
    draft = ("Behind the old cinema [1].\n"
             "On 6 November Ana told Ben to meet her at seven behind the old cinema [1].")
    backend = ScriptedBackend([draft])
    _, answer = run(backend, embedder, MEETING_Q, passages=[MEETING])
    assert "[Wednesday 6 November 2024, 21:40] Ana → Ben: meet me today" in backend.prompts[0][1]["content"]
    assert answer.status == "answered" and answer.backend == "fake" and answer.flagged_claims == ()
    lines = answer.answer.splitlines()
    # the direct answer leads, expanded to the message that holds it so that it can be verified
    assert lines[0] == "Behind the old cinema: meet me today at seven behind the old cinema [1]"
    assert lines[1] == "On 6 November Ana told Ben to meet her at seven behind the old cinema [1]."
    assert all(c.verified for c in answer.citations)


def test_a_claim_dated_against_another_messages_date_is_removed_and_named(embedder: Embedder) -> None:
    draft = ("Behind the old cinema [1].\n"
             "On 5 November Ana told Ben to meet her at seven behind the old cinema [1].")
    _, answer = run(ScriptedBackend([draft]), embedder, MEETING_Q, passages=[MEETING])
    assert answer.status == "answered" and answer.backend == "fake"  # the direct answer survives: no fallback
    assert answer.flagged_claims == ("On 5 November Ana told Ben to meet her at seven behind the old cinema.",)
    assert "5 November" not in answer.answer
    assert any("“On 5 November Ana told Ben" in n for n in answer.notes)
