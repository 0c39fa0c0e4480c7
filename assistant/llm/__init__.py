"""Model backends: the only package that knows Ollama, OpenAI-compatible servers and the local llama.cpp runtime.

`select_backend` turns `LLMSettings` into a `Selection`: a backend (or None, meaning the answerer answers
extractively) and a note saying which one answers and why. Client libraries are imported lazily.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import BackendUnavailable
from assistant.llm.base import FALLBACK_HINT, Backend, Messages, is_smoke_model
from assistant.llm.local import LocalModelBackend
from assistant.llm.models import resolve_model
from assistant.llm.ollama import OllamaBackend, plain_http_remote, resolve_ollama_host
from assistant.llm.openai_compat import OpenAIBackend

log = logging.getLogger(__name__)

AUTO_CHECK_TIMEOUT_S = 2.0

__all__ = ["Backend", "LocalModelBackend", "Messages", "OllamaBackend", "OpenAIBackend", "Selection",
           "is_smoke_model", "local_backend", "select_backend"]


@dataclass(frozen=True)
class Selection:
    backend: Backend | None  # None: answer extractively
    note: str = ""           # why this backend answers ("" when configured explicitly)


def local_backend(settings: Settings) -> LocalModelBackend:
    llm = settings.llm
    path, why = resolve_model(llm.llamacpp_model_path or llm.local_model, settings.cache_dir)
    return LocalModelBackend(path, why_missing=why, threads=llm.llamacpp_threads, n_ctx=llm.llamacpp_ctx,
                             memory_mb=llm.llamacpp_memory_mb, start_timeout_s=llm.start_timeout_s,
                             timeout_s=llm.timeout_s, max_passages=llm.llamacpp_max_passages,
                             log_dir=Path(settings.cache_dir).expanduser() / "logs")


def select_backend(settings: Settings) -> Selection:
    """The backend named by `settings.llm.backend`. Only `auto` probes anything here (a ≤2 s Ollama check, a file
    check for the local model); the others report problems from their own `check()` when first used."""
    llm = settings.llm
    match llm.backend:
        case "ollama":
            return Selection(OllamaBackend(resolve_ollama_host(llm), llm.ollama_model, timeout_s=llm.timeout_s))
        case "openai":
            return Selection(OpenAIBackend(llm.openai_base_url, llm.openai_model, api_key=llm.openai_api_key,
                                           timeout_s=llm.timeout_s))
        case "llamacpp":
            return Selection(local_backend(settings))
        case "extractive":
            return Selection(None)
        case "auto":
            return _auto(settings)
    raise ValueError(f"unknown backend {llm.backend!r}")  # unreachable while BackendName is a Literal


def _auto(settings: Settings) -> Selection:
    llm = settings.llm
    ollama = OllamaBackend(resolve_ollama_host(llm), llm.ollama_model, timeout_s=llm.timeout_s,
                           check_timeout_s=min(AUTO_CHECK_TIMEOUT_S, llm.timeout_s))
    why = f"Ollama not reachable at {ollama.host}"
    if plain_http_remote(ollama.host):  # auto never sends passages unencrypted to another machine
        log.warning("llm.auto ollama_skipped reason=plain_http_remote host=%s", ollama.host)
        why = (f"Ollama at {ollama.host} not used: plain HTTP to another machine (use https:// or set "
               "ASSISTANT_LLM__BACKEND=ollama explicitly)")
    else:
        try:
            ollama.check()
        except BackendUnavailable:
            pass
        else:
            log.info("llm.auto selected=ollama host=%s model=%s", ollama.host, ollama.model)
            return Selection(ollama, f"auto: Ollama answered at {ollama.host} with {ollama.model}")
    local = local_backend(settings)
    try:
        local.check()
    except BackendUnavailable as exc:
        log.info("llm.auto selected=extractive")
        return Selection(None, f"auto: extractive answer ({why}; local model: "
                               f"{str(exc).replace(', ' + FALLBACK_HINT, '')})")
    log.info("llm.auto selected=llamacpp model=%s", local.model)
    return Selection(local, f"auto: {why}; answered by the local model {local.model}")
