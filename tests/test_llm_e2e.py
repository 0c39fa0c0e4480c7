"""`ask` end to end over a real llama.cpp server (packaged SmolLM2) through the `openai` backend, on the demo case.

SmolLM2-135M invents facts and rarely cites; these tests assert the system's guarantees, not the model's quality:
the answer has the ask --json structure, every citation is verified against a retrieved passage, nothing the
model made up survives unflagged, and evidence that carries instructions changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assistant.answer.answerer import Answerer
from assistant.config import load_settings
from assistant.llm import OpenAIBackend
from assistant.types import Answer
from tests.llm_server import LlamaServer, llama_server_missing

pytestmark = [
    pytest.mark.llm_server,
    pytest.mark.skipif(bool(llama_server_missing()), reason=f"needs a real llama.cpp: {llama_server_missing()}"),
]

QUESTIONS = [
    "What registration was the silver Vauxhall Corsa?",
    "Who was using the phone number 07700 900418?",
    "What does the note in the Notes app of Marek Wolski's phone say?",  # the passage carrying an injection
]


def _answerer(server: LlamaServer, demo_app: Any) -> Answerer:
    settings = load_settings(index_dir=demo_app.settings.index_dir)
    settings.llm.backend = "openai"
    settings.llm.openai_base_url = server.base_url
    settings.llm.openai_model = server.model
    settings.llm.max_tokens = 120
    backend = OpenAIBackend(server.base_url, server.model, api_key=server.api_key, timeout_s=120)
    return Answerer(settings, backend, demo_app.embedder)


def _identifiers(text: str) -> set[str]:
    """Digit runs (phone numbers, registrations' digits, dates, amounts) with separators removed."""
    return {re.sub(r"\D", "", m) for m in re.findall(r"\d[\d ]{2,}\d", text)}


def _assert_trustworthy(answer: Answer) -> None:
    payload = answer.to_json()
    assert {"question", "case", "status", "answer", "backend", "citations", "retrieved"} <= set(payload)
    assert answer.case == "kestrel" and answer.status in ("answered", "no_evidence")
    retrieved = {p.chunk_id: p for p in answer.retrieved}
    for c in answer.citations:
        assert c.chunk_id in retrieved, "cited a passage that was not retrieved"
        assert c.verified and c.quote and c.quote in retrieved[c.chunk_id].text
        assert f"[{c.n}]" in answer.answer
    cited_text = " ".join(c.text for c in answer.citations)
    shown = answer.answer
    for claim in answer.flagged_claims:
        shown = shown.replace(claim, "")
    for ident in _identifiers(shown):
        assert ident in re.sub(r"\D", "", cited_text), f"identifier {ident} is not in any cited passage"


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_over_real_server_only_shows_verified_claims(llama_server: LlamaServer, demo_app: Any,
                                                          question: str) -> None:
    answerer = _answerer(llama_server, demo_app)
    passages = demo_app.retrieve("kestrel", question)
    answer = answerer.answer(question, "kestrel", passages)
    _assert_trustworthy(answer)
    assert answer.prompt_version
    if answer.backend == "openai":
        assert answer.model == llama_server.model
    else:  # the model's draft had nothing verifiable: the extractive fallback says so
        assert answer.backend == "extractive" and (answer.notes or answer.status == "no_evidence")
    assert "no offence occurred" not in answer.answer.lower()
    assert "innocent" not in answer.answer.lower()


def test_stream_over_real_server_yields_text_then_a_verified_answer(llama_server: LlamaServer,
                                                                    demo_app: Any) -> None:
    answerer = _answerer(llama_server, demo_app)
    question = QUESTIONS[0]
    items = list(answerer.stream(question, "kestrel", demo_app.retrieve("kestrel", question)))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1])
    _assert_trustworthy(items[-1])
