"""Ollama's native /api/chat, streamed as NDJSON through the official `ollama` client (imported lazily).
Network calls go only to the configured host; no proxies from the environment."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from assistant.config import LLMSettings
from assistant.errors import BackendUnavailable
from assistant.llm.base import FALLBACK_HINT, Messages, logged
from assistant.offline import host_of, is_loopback_host

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 5.0


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
    """`settings.ollama_host`, always. Unlike the ollama CLI, `OLLAMA_HOST` in the environment never overrides it: a
    stray variable would silently send case passages to another machine. A differing value is logged and ignored."""
    configured = normalize_ollama_host(settings.ollama_host)
    env = os.environ.get("OLLAMA_HOST", "").strip()
    if env and normalize_ollama_host(env) != configured:
        log.warning("ollama_host_env_ignored env=%s configured=%s (set ASSISTANT_LLM__OLLAMA_HOST to change it)",
                    normalize_ollama_host(env), configured)
    elif env:
        log.info("ollama_host_env_matches host=%s", configured)
    return configured


def plain_http_remote(host: str) -> bool:
    """True when `host` (normalised) would carry passages unencrypted to another machine."""
    return host.startswith("http://") and not is_loopback_host(host_of(host))


class OllamaBackend:
    """Ollama's native /api/chat, streamed as NDJSON through the official `ollama` client."""

    name = "ollama"

    def __init__(self, host: str, model: str, *, timeout_s: float, check_timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self.host = host
        self.model = model
        self.timeout_s = timeout_s
        self.check_timeout_s = check_timeout_s
        self.selection_note = ""
        self.max_passages = 0  # every retrieved passage
        self.served_models: tuple[str, ...] = ()

    def _client(self, timeout_s: float) -> Any:
        import httpx
        import ollama  # lazy: only this backend needs it

        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CHECK_TIMEOUT_S))
        return ollama.Client(host=self.host, timeout=timeout, trust_env=False)  # no proxies: configured host only

    def _unreachable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama not reachable at {self.host}: start it with `ollama serve` and `ollama pull {self.model}`, "
            f"{FALLBACK_HINT} ({reason})")

    def _not_pulled(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama at {self.host} does not have model {self.model!r}: run `ollama pull {self.model}` on that host, "
            f"set ASSISTANT_LLM__OLLAMA_MODEL to a pulled model, {FALLBACK_HINT}")

    def check(self) -> None:
        import httpx
        import ollama

        try:
            with self._client(self.check_timeout_s) as client:
                listed = client.list()
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            raise self._unreachable(type(exc).__name__) from exc
        names = {m.model for m in listed.models if m.model}
        self.served_models = tuple(sorted(names))
        if not _ollama_has_model(names, self.model):
            raise self._not_pulled()
        log.info("llm.check backend=ollama host=%s model=%s ok=1 models=%d", self.host, self.model, len(names))

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return logged(self.name, self.model, messages, self._stream(messages, max_tokens, temperature))

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
