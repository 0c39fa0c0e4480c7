"""The local instruct model (`llamacpp` backend): a GGUF file served by a supervised child process, spoken to over
its OpenAI-compatible API on loopback. When the child dies mid-answer the request fails with an actionable
`BackendUnavailable` (the answerer then shows the extractive answer with that note) and the next request restarts it.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import BackendUnavailable
from assistant.llm.base import FALLBACK_HINT, Messages, logged
from assistant.llm.openai_compat import OpenAIBackend
from assistant.llm.runtime import LocalRuntime

log = logging.getLogger(__name__)

RUNTIME_PACKAGE = "xllamacpp"


def runtime_missing() -> str:
    """Why the local runtime cannot run here ("" when it can)."""
    if importlib.util.find_spec(RUNTIME_PACKAGE) is None:
        return "the local model runtime (xllamacpp) is not installed: run `make llm`"
    return ""


class LocalModelBackend:
    name = "llamacpp"

    def __init__(self, model_path: Path | None, *, why_missing: str = "", threads: int = 1, n_ctx: int = 4096,
                 memory_mb: int = 0, start_timeout_s: float = 120.0, timeout_s: float = 120.0,
                 max_passages: int = 0, log_dir: Path = Path(".")) -> None:
        self.model_path = model_path
        self.model = model_path.name if model_path else "(no local model)"
        self.why_missing = why_missing
        self.timeout_s = timeout_s
        self.selection_note = ""
        self.max_passages = max_passages
        self.served_models: tuple[str, ...] = ()
        self.runtime = (LocalRuntime(model_path, alias=model_path.stem, threads=threads, n_ctx=n_ctx,
                                     memory_mb=memory_mb, start_timeout_s=start_timeout_s, log_dir=log_dir)
                        if model_path else None)

    def check(self) -> None:
        missing = runtime_missing()
        if missing:
            raise BackendUnavailable(f"{missing}, {FALLBACK_HINT}")
        if self.model_path is None or self.runtime is None:
            raise BackendUnavailable(f"{self.why_missing or 'no local model configured'}: set "
                                     f"ASSISTANT_LLM__LOCAL_MODEL to a model name or a .gguf path, {FALLBACK_HINT}")
        if not self.model_path.is_file():
            raise BackendUnavailable(f"GGUF model not found at {self.model_path}: fix ASSISTANT_LLM__LOCAL_MODEL or "
                                     f"run `make llm`, {FALLBACK_HINT}")

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]:
        return logged(self.name, self.model, messages, self._stream(messages, max_tokens, temperature))

    def _stream(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        self.check()
        assert self.runtime is not None  # check() guarantees it
        base_url = self.runtime.ensure_started()
        client = OpenAIBackend(base_url, self.runtime.alias, api_key=self.runtime.api_key, timeout_s=self.timeout_s)
        try:
            yield from client.stream_pieces(messages, max_tokens, temperature)
        except BackendUnavailable as exc:
            if self.runtime.exited(within_s=2.0):
                reason = self.runtime.exit_reason()
                log.warning("llm.local child_failed model=%s reason=%s", self.model, reason)
                raise BackendUnavailable(f"The local model process {reason} during this answer; it is restarted "
                                         "for the next question") from exc
            self.runtime.restart_after_failure()  # alive but failing (hung or refusing): start afresh next time
            raise

    def first_token_logprobs(self, messages: Messages, *, top: int) -> dict[str, float]:
        """The first reply token's top candidates with log-probabilities (see `OpenAIBackend.first_token_logprobs`)."""
        self.check()
        assert self.runtime is not None  # check() guarantees it
        base_url = self.runtime.ensure_started()
        client = OpenAIBackend(base_url, self.runtime.alias, api_key=self.runtime.api_key, timeout_s=self.timeout_s)
        try:
            return client.first_token_logprobs(messages, top=top)
        except BackendUnavailable:
            if not self.runtime.exited(within_s=2.0):
                self.runtime.restart_after_failure()
            raise
