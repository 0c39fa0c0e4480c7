"""The LLM paths once more against real llama.cpp: a `python -m llama_cpp.server` process on loopback serving the
packaged SmolLM2 (spoken to by the `openai` backend), and the in-process `llamacpp` backend. SmolLM2-135M is a
smoke-test model: these tests check plumbing (a streamed, non-empty reply), never answer quality."""

from __future__ import annotations

import pytest

from assistant.answer.prompts import render_answer_messages
from assistant.backends import LlamaCppBackend, OpenAIBackend, build_backend, is_smoke_model, packaged_smollm2_path
from assistant.config import LLMSettings
from assistant.types import Passage
from assistant.verify.verifier import parse_draft
from tests.llm_server import LlamaServer, llama_server_fixture, llama_server_missing  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.llm_server,
    pytest.mark.skipif(bool(llama_server_missing()), reason=f"needs a real llama.cpp: {llama_server_missing()}"),
]

PASSAGES = [
    Passage(chunk_id="c1", case="kestrel", source="statements/witness_a.txt", locator="page 2, lines 14-17",
            text="At about 21:40 I saw Daniel Okafor park a silver Ford Focus on Harbour Street.", score=0.9, rank=1),
    Passage(chunk_id="c2", case="kestrel", source="phones/device1.csv", locator="thread 7, msg 12",
            text="2023-03-04 21:52 Daniel: see u at the harbour in 10", score=0.5, rank=2, kind="messages"),
]


def _openai(server: LlamaServer) -> tuple[OpenAIBackend, LLMSettings]:
    settings = LLMSettings(backend="openai", openai_base_url=server.base_url, openai_model=server.model, timeout_s=120)
    backend = build_backend(settings)
    assert isinstance(backend, OpenAIBackend)
    return backend, settings


def test_openai_backend_streams_from_real_server(llama_server: LlamaServer) -> None:
    backend, settings = _openai(llama_server)
    backend.check()
    assert llama_server.model in backend.served_models
    assert is_smoke_model(backend, settings)
    pieces = list(backend.stream_chat([{"role": "user", "content": "Name one colour."}], max_tokens=12,
                                      temperature=0.0))
    assert len(pieces) >= 2  # streamed, not one blob
    assert "".join(pieces).strip()


def test_answer_prompt_with_two_passages_gets_a_reply(llama_server: LlamaServer) -> None:
    backend, _ = _openai(llama_server)
    messages = render_answer_messages("What car did Daniel Okafor drive?", PASSAGES)
    reply = "".join(backend.stream_chat(messages, max_tokens=32, temperature=0.0))
    assert reply.strip()
    claims, not_found = parse_draft(reply)  # a 135M model rarely follows the format; the parser must still cope
    assert not_found or claims


def test_inprocess_llamacpp_backend_generates() -> None:
    backend = build_backend(LLMSettings(backend="llamacpp"))
    assert isinstance(backend, LlamaCppBackend)
    assert backend.model_path == packaged_smollm2_path()
    backend.check()
    backend.n_threads = 1  # before the lazy load: robust on shared cores (see tests/llm_server.py)
    reply = "".join(backend.stream_chat([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0.0))
    assert reply.strip()
