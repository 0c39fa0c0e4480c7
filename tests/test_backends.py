"""Backends: selection, actionable errors, the scripted test backend, and the ollama/openai backends spoken to over
their real wire protocols by fixture servers on loopback."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.config import LLMSettings, Settings, load_settings
from assistant.errors import BackendUnavailable, ConfigError
from assistant.llm import LocalModelBackend, OllamaBackend, OpenAIBackend, Selection, is_smoke_model, select_backend
from assistant.llm.models import packaged_smollm2_path
from assistant.llm.ollama import normalize_ollama_host
from assistant.llm.openai_compat import parse_sse_deltas
from assistant.llm.runtime import free_port
from tests.fakes import ScriptedBackend
from tests.llm_server import (  # noqa: F401  (fixtures)
    OllamaProtocolServer,
    OpenAIProtocolServer,
    ollama_protocol_server_fixture,
    openai_protocol_server_fixture,
)

MESSAGES = [{"role": "system", "content": "Answer from passages."}, {"role": "user", "content": "Where is the van?"}]


@pytest.fixture(autouse=True)
def _no_ollama_host_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _settings(tmp_path: Path, **llm: Any) -> Settings:
    """Settings with an empty model cache, so what is installed on this machine does not decide the outcome."""
    return load_settings(cache_dir=tmp_path / "cache", llm=LLMSettings(**llm))


def _select(tmp_path: Path, **llm: Any) -> Selection:
    return select_backend(_settings(tmp_path, **llm))


# --- selection -----------------------------------------------------------------------------------------------------


def test_select_each_named_backend(tmp_path: Path) -> None:
    ollama = _select(tmp_path, backend="ollama", ollama_host="10.0.0.5", ollama_model="m:1").backend
    assert isinstance(ollama, OllamaBackend)
    assert (ollama.name, ollama.model, ollama.host) == ("ollama", "m:1", "http://10.0.0.5:11434")
    openai = _select(tmp_path, backend="openai", openai_base_url="http://127.0.0.1:9/v1/", openai_model="x").backend
    assert isinstance(openai, OpenAIBackend)
    assert (openai.name, openai.model, openai.base_url) == ("openai", "x", "http://127.0.0.1:9/v1")
    local = _select(tmp_path, backend="llamacpp", local_model=str(tmp_path / "tiny.gguf")).backend
    assert isinstance(local, LocalModelBackend)
    assert (local.name, local.model_path) == ("llamacpp", None)  # not on disk: check() will say so
    extractive = _select(tmp_path, backend="extractive")
    assert extractive == Selection(None, "")
    for backend in (ollama, openai, local):
        assert backend.selection_note == "" and backend.served_models == ()


def test_local_model_by_path_name_or_smoke_name(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    by_path = _select(tmp_path, backend="llamacpp", local_model=str(gguf)).backend
    assert isinstance(by_path, LocalModelBackend) and by_path.model_path == gguf and by_path.model == "tiny.gguf"
    old_name = _select(tmp_path, backend="llamacpp", llamacpp_model_path=str(gguf)).backend
    assert isinstance(old_name, LocalModelBackend) and old_name.model_path == gguf
    smoke = _select(tmp_path, backend="llamacpp", local_model="smollm2").backend
    assert isinstance(smoke, LocalModelBackend) and smoke.model_path == packaged_smollm2_path()
    with pytest.raises(ConfigError, match="unknown local model 'gpt-5'"):
        _select(tmp_path, backend="llamacpp", local_model="gpt-5")


def test_catalog_model_not_in_cache_names_make_llm(tmp_path: Path) -> None:
    backend = _select(tmp_path, backend="llamacpp", local_model="qwen2.5-coder-0.5b").backend
    assert isinstance(backend, LocalModelBackend)
    with pytest.raises(BackendUnavailable, match=r"'qwen2.5-coder-0.5b' is not installed: run `make llm`"):
        backend.check()


def test_ollama_host_env_never_overrides_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:5555")
    with caplog.at_level(logging.WARNING, logger="assistant.llm.ollama"):
        backend = _select(tmp_path, backend="ollama", ollama_host="http://127.0.0.1:11434").backend
    assert isinstance(backend, OllamaBackend)
    assert backend.host == "http://127.0.0.1:11434"
    assert "ollama_host_env_ignored env=http://127.0.0.1:5555" in caplog.text
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1")  # the same host written another way: accepted, nothing logged
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="assistant.llm.ollama"):
        same = _select(tmp_path, backend="ollama", ollama_host="http://127.0.0.1:11434").backend
    assert isinstance(same, OllamaBackend) and same.host == "http://127.0.0.1:11434" and not caplog.text


@pytest.mark.parametrize(("given", "expected"), [
    ("", "http://127.0.0.1:11434"),
    ("gpu-box", "http://gpu-box:11434"),
    ("gpu-box:8000/", "http://gpu-box:8000"),
    ("https://gpu-box", "https://gpu-box:443"),
    ("http://gpu-box", "http://gpu-box:80"),
    ("[::1]", "http://[::1]:11434"),
    ("http://[::1]:11434", "http://[::1]:11434"),
])
def test_normalize_ollama_host(given: str, expected: str) -> None:
    assert normalize_ollama_host(given) == expected


def test_auto_falls_back_to_extractive_with_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = _closed_port_url()
    selection = _select(tmp_path, backend="auto", ollama_host=url)  # empty cache: no local model either
    assert selection.backend is None
    assert selection.note.startswith(f"auto: extractive answer (Ollama not reachable at {url}; local model:")
    assert "make llm" in selection.note


def test_auto_uses_ollama_when_it_answers(ollama_protocol_server: OllamaProtocolServer, tmp_path: Path) -> None:
    selection = _select(tmp_path, backend="auto", ollama_host=ollama_protocol_server.host,
                        ollama_model=ollama_protocol_server.models[0])
    assert isinstance(selection.backend, OllamaBackend)
    assert selection.note.startswith("auto: Ollama answered")


def test_auto_uses_the_local_model_when_ollama_is_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if packaged_smollm2_path() is None:
        pytest.skip("the packaged SmolLM2 is not installed (run `make llm`)")
    selection = _select(tmp_path, backend="auto", local_model="smollm2", ollama_host=_closed_port_url())
    assert isinstance(selection.backend, LocalModelBackend)
    assert "answered by the local model SmolLM2" in selection.note


def test_auto_falls_back_when_model_not_pulled(ollama_protocol_server: OllamaProtocolServer, tmp_path: Path) -> None:
    selection = _select(tmp_path, backend="auto", ollama_host=ollama_protocol_server.host, ollama_model="qwen")
    assert selection.backend is None
    assert selection.note.startswith(f"auto: extractive answer (Ollama not reachable at {ollama_protocol_server.host}")


# --- ScriptedBackend -----------------------------------------------------------------------------------------------


def test_scripted_backend_records_prompts_and_streams_in_pieces() -> None:
    backend = ScriptedBackend(["The van was blue [1] \"blue van\""], pieces=3)
    pieces = list(backend.stream_chat(MESSAGES, max_tokens=50, temperature=0.0))
    assert len(pieces) == 3
    assert "".join(pieces) == "The van was blue [1] \"blue van\""
    assert backend.prompts == [MESSAGES]
    assert backend.calls == [{"max_tokens": 50, "temperature": 0.0}]


def test_scripted_backend_queue_order_errors_and_check() -> None:
    backend = ScriptedBackend().queue("one", BackendUnavailable("server went away"), "three")
    assert "".join(backend.stream_chat(MESSAGES, max_tokens=5, temperature=0.0)) == "one"
    with pytest.raises(BackendUnavailable, match="went away"):
        list(backend.stream_chat(MESSAGES, max_tokens=5, temperature=0.0))
    assert "".join(backend.stream_chat(MESSAGES, max_tokens=5, temperature=0.0)) == "three"
    with pytest.raises(RuntimeError, match="no reply queued"):
        backend.stream_chat(MESSAGES, max_tokens=5, temperature=0.0)
    assert len(backend.prompts) == 4
    backend.check()
    with pytest.raises(BackendUnavailable, match="down for maintenance"):
        ScriptedBackend(unavailable="down for maintenance").check()


def test_logs_carry_sizes_not_text(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Witness Jane Roe lives at 4 Secret Lane"
    backend = ScriptedBackend(["reply mentioning Secret Lane"])
    with caplog.at_level(logging.INFO, logger="assistant.llm.base"):
        list(backend.stream_chat([{"role": "user", "content": secret}], max_tokens=5, temperature=0.0))
    assert "prompt_chars=39" in caplog.text and "reply_chars=" in caplog.text
    assert "Secret" not in caplog.text


# --- the local model: actionable errors ---------------------------------------------------------------------------


def test_local_missing_model_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="make llm") as err:
        LocalModelBackend(tmp_path / "absent.gguf").check()
    assert "absent.gguf" in str(err.value)
    with pytest.raises(BackendUnavailable, match="ASSISTANT_LLM__LOCAL_MODEL"):
        LocalModelBackend(None, why_missing="local model 'x' is not installed: run `make llm`").check()


def test_local_missing_runtime_names_make_llm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "xllamacpp" else real_find_spec(name, *a))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(BackendUnavailable, match=r"runtime \(xllamacpp\) is not installed: run `make llm`"):
        LocalModelBackend(model, log_dir=tmp_path).check()


def test_is_smoke_model() -> None:
    fragments = LLMSettings().smoke_models
    assert is_smoke_model(["SmolLM2-135M-Instruct.Q4_1.gguf"], fragments)
    assert not is_smoke_model(["llama3.1:8b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"], fragments)
    assert is_smoke_model(["local", "/models/smollm2-135m.gguf"], fragments)


# --- ollama over its native protocol ---------------------------------------------------------------------------------


def test_ollama_check_and_stream_in_order(ollama_protocol_server: OllamaProtocolServer) -> None:
    server = ollama_protocol_server
    server.tokens = ["Tok0 ", "Tok1 ", "Tok2 ", "Tok3 ", "Tok4"]
    backend = OllamaBackend(server.host, server.models[0], timeout_s=10)
    backend.check()
    pieces = list(backend.stream_chat(MESSAGES, max_tokens=64, temperature=0.2))
    assert pieces == server.tokens
    method, path, body = server.requests[-1]
    assert (method, path) == ("POST", "/api/chat")
    assert body["model"] == server.models[0] and body["stream"] is True
    assert body["messages"] == MESSAGES
    assert body["options"] == {"temperature": 0.2, "num_predict": 64}


def test_ollama_streams_incrementally(ollama_protocol_server: OllamaProtocolServer) -> None:
    server = ollama_protocol_server
    server.token_delay_s = 0.15
    backend = OllamaBackend(server.host, server.models[0], timeout_s=10)
    arrivals = [time.perf_counter() for _ in backend.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)]
    assert len(arrivals) == len(server.tokens)
    assert arrivals[-1] - arrivals[0] > 0.4  # pieces arrived as they were produced, not all at the end


def test_ollama_model_not_pulled_says_ollama_pull(ollama_protocol_server: OllamaProtocolServer) -> None:
    backend = OllamaBackend(ollama_protocol_server.host, "mistral:7b", timeout_s=5)
    with pytest.raises(BackendUnavailable, match=r"`ollama pull mistral:7b`"):
        backend.check()
    with pytest.raises(BackendUnavailable, match=r"`ollama pull mistral:7b`"):
        list(backend.stream_chat(MESSAGES, max_tokens=8, temperature=0.0))


def test_ollama_name_without_tag_matches_latest(ollama_protocol_server: OllamaProtocolServer) -> None:
    ollama_protocol_server.models = ["llama3.1:latest"]
    OllamaBackend(ollama_protocol_server.host, "llama3.1", timeout_s=5).check()


def test_ollama_unreachable_is_actionable() -> None:
    url = _closed_port_url()
    backend = OllamaBackend(url, "llama3.1:8b", timeout_s=2)
    expected = (f"Ollama not reachable at {url}: start it with `ollama serve` and `ollama pull llama3.1:8b`, "
                "or set ASSISTANT_LLM__BACKEND=extractive")
    with pytest.raises(BackendUnavailable) as err:
        backend.check()
    assert str(err.value).startswith(expected)
    with pytest.raises(BackendUnavailable, match="ollama serve"):
        list(backend.stream_chat(MESSAGES, max_tokens=8, temperature=0.0))


# --- OpenAI-compatible over SSE ------------------------------------------------------------------------------------


def test_openai_check_and_stream_in_order(openai_protocol_server: OpenAIProtocolServer) -> None:
    server = openai_protocol_server
    backend = OpenAIBackend(server.base_url, "local")
    backend.check()
    assert backend.served_models == ("smollm2-fixture",)
    assert is_smoke_model([backend.model, *backend.served_models], LLMSettings().smoke_models)
    assert list(backend.stream_chat(MESSAGES, max_tokens=32, temperature=0.0)) == server.tokens
    method, path, body = server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body == {"model": "local", "messages": MESSAGES, "stream": True, "max_tokens": 32, "temperature": 0.0}


def test_openai_unreachable_is_actionable() -> None:
    backend = OpenAIBackend(f"{_closed_port_url()}/v1", "local", timeout_s=2)
    with pytest.raises(BackendUnavailable, match=r"not reachable at http://127\.0\.0\.1:\d+/v1: start one"):
        backend.check()
    with pytest.raises(BackendUnavailable, match="ASSISTANT_LLM__OPENAI_BASE_URL"):
        list(backend.stream_chat(MESSAGES, max_tokens=8, temperature=0.0))


def test_parse_sse_deltas() -> None:
    lines = [": keep-alive", "", 'data: {"choices":[{"delta":{"role":"assistant"}}]}', "data: not json",
             'data: {"choices":[{"delta":{"content":"Hel"}}]}', "event: ping",
             'data: {"choices":[{"delta":{"content":"lo"}}]}', "data: [DONE]",
             'data: {"choices":[{"delta":{"content":"after done"}}]}']
    assert list(parse_sse_deltas(lines)) == ["Hel", "lo"]
    with pytest.raises(BackendUnavailable, match="context length"):
        list(parse_sse_deltas(['data: {"error": {"message": "context length exceeded"}}']))
