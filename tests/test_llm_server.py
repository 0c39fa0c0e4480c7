"""The LLM paths against the real model runtime: the product's child process running llama.cpp's server (xllamacpp)
on loopback with the packaged SmolLM2, spoken to by the `openai` backend and by the `llamacpp` backend that
supervises it. SmolLM2-135M is a smoke-test model: these tests check plumbing and failure handling, never quality.

The crash tests really kill the child (SIGSEGV, SIGKILL) or freeze it (SIGSTOP) in the middle of an answer."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answerer import Answerer
from assistant.answer.prompts import render_answer_messages
from assistant.config import LLMSettings, Settings, load_settings
from assistant.errors import BackendUnavailable
from assistant.index.embedding import Embedder
from assistant.llm import LocalModelBackend, OpenAIBackend, is_smoke_model, select_backend
from assistant.llm.models import packaged_smollm2_path
from assistant.types import Answer, Passage
from tests.llm_server import LlamaServer, llama_server_fixture, llama_server_missing  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.llm_server,
    pytest.mark.skipif(bool(llama_server_missing()), reason=f"needs the local model runtime: {llama_server_missing()}"),
]

PASSAGES = [
    Passage(chunk_id="c1", case="kestrel", source="statements/witness_a.txt", locator="page 2, lines 14-17",
            text="At about 21:40 I saw Daniel Okafor park a silver Ford Focus on Harbour Street.", score=0.9, rank=1),
    Passage(chunk_id="c2", case="kestrel", source="phones/device1.csv", locator="thread 7, msg 12",
            text="2023-03-04 21:52 Daniel: see u at the harbour in 10", score=0.5, rank=2, kind="messages"),
]
QUESTION = "What car did Daniel Okafor park on Harbour Street?"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedder]:
    yield Embedder(load_settings().embedding, cache_dir=Path(tmp_path_factory.mktemp("emb")))


def _settings(tmp_path: Path, **llm: object) -> Settings:
    settings = load_settings(cache_dir=tmp_path / "cache")
    settings.llm = LLMSettings.model_validate({"backend": "llamacpp", "local_model": "smollm2",
                                               "llamacpp_threads": 1, "llamacpp_ctx": 2048, **llm})
    return settings


def test_openai_backend_streams_from_the_runtime_server(llama_server: LlamaServer) -> None:
    backend = OpenAIBackend(llama_server.base_url, llama_server.model, api_key=llama_server.api_key, timeout_s=120)
    backend.check()
    assert llama_server.model in " ".join(backend.served_models)
    assert is_smoke_model([backend.model, *backend.served_models], LLMSettings().smoke_models)
    pieces = list(backend.stream_chat([{"role": "user", "content": "Name one colour."}], max_tokens=12,
                                      temperature=0.0))
    assert len(pieces) >= 2  # streamed, not one blob
    assert "".join(pieces).strip()


def test_runtime_server_refuses_requests_without_its_key(llama_server: LlamaServer) -> None:
    stranger = OpenAIBackend(llama_server.base_url, llama_server.model, api_key="guessed", timeout_s=30)
    with pytest.raises(BackendUnavailable, match="HTTP 401"):
        list(stranger.stream_chat([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0.0))


def test_answer_prompt_with_two_passages_gets_a_reply(llama_server: LlamaServer) -> None:
    backend = OpenAIBackend(llama_server.base_url, llama_server.model, api_key=llama_server.api_key, timeout_s=120)
    reply = "".join(backend.stream_chat(render_answer_messages(QUESTION, PASSAGES), max_tokens=32, temperature=0.0))
    assert reply.strip()


def test_local_backend_starts_its_child_and_answers(tmp_path: Path, embedder: Embedder) -> None:
    settings = _settings(tmp_path)
    selection = select_backend(settings)
    backend = selection.backend
    assert isinstance(backend, LocalModelBackend) and backend.model_path == packaged_smollm2_path()
    try:
        answer = Answerer(settings, backend, embedder).answer(QUESTION, "kestrel", PASSAGES)
        assert backend.runtime is not None and backend.runtime.alive() and backend.runtime.pid != os.getpid()
        assert answer.model == backend.model
        assert answer.backend in ("llamacpp", "extractive")  # extractive when SmolLM2's draft had nothing verifiable
        assert all(c.verified for c in answer.citations)
    finally:
        backend.runtime.stop() if backend.runtime else None


def _kill_mid_answer(settings: Settings, embedder: Embedder, sig: signal.Signals) -> tuple[Answer, LocalModelBackend]:
    backend = select_backend(settings).backend
    assert isinstance(backend, LocalModelBackend) and backend.runtime is not None
    stream = Answerer(settings, backend, embedder).stream(QUESTION, "kestrel", PASSAGES)
    first = next(stream)
    assert isinstance(first, str), first  # the model is writing: the child is alive and mid-answer
    pid = backend.runtime.pid
    assert pid is not None
    os.kill(pid, sig)
    items = list(stream)
    final = items[-1]
    assert isinstance(final, Answer)
    return final, backend


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_killing_the_model_mid_answer_falls_back_and_keeps_serving(tmp_path: Path, embedder: Embedder,
                                                                   sig: signal.Signals) -> None:
    settings = _settings(tmp_path, max_tokens=400)
    answer, backend = _kill_mid_answer(settings, embedder, sig)
    assert backend.runtime is not None
    try:
        assert answer.backend == "extractive" and answer.status == "answered"
        assert answer.model == backend.model  # the model that was tried is recorded
        assert any(f"The local model process was killed by {sig.name}" in note for note in answer.notes), answer.notes
        assert all(c.verified for c in answer.citations)
        # the same process keeps serving: two more questions at once, on a freshly started child
        results: list[Answer] = []
        threads = [threading.Thread(target=lambda: results.append(
            Answerer(settings, backend, embedder).answer(QUESTION, "kestrel", PASSAGES))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert len(results) == 2 and backend.runtime.starts == 2 and backend.runtime.alive()
        assert not any("model backend failed" in note for r in results for note in r.notes)
    finally:
        backend.runtime.stop()


def test_a_hung_model_times_out_is_restarted_and_answers_fall_back(tmp_path: Path, embedder: Embedder) -> None:
    settings = _settings(tmp_path, timeout_s=15.0, max_tokens=400)
    answer, backend = _kill_mid_answer(settings, embedder, signal.SIGSTOP)  # frozen, not dead
    assert backend.runtime is not None
    try:
        assert answer.backend == "extractive"
        assert any("timed out after 15s" in note for note in answer.notes), answer.notes
        assert not backend.runtime.alive()  # the frozen child was ended; the next question starts a new one
        again = Answerer(settings, backend, embedder).answer(QUESTION, "kestrel", PASSAGES)
        assert backend.runtime.starts == 2 and not any("model backend failed" in n for n in again.notes)
    finally:
        backend.runtime.stop()
