"""Any OpenAI-compatible server (the local runtime's own server, vLLM, LM Studio): /chat/completions with SSE
streaming. Network calls go only to the configured base URL; no proxies from the environment."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator

from assistant.errors import BackendUnavailable
from assistant.llm.base import FALLBACK_HINT, Messages, logged

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 5.0


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
        self.max_passages = 0  # every retrieved passage

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _unreachable(self, reason: str) -> BackendUnavailable:
        return BackendUnavailable(
            f"OpenAI-compatible server not reachable at {self.base_url}: start one (vLLM, llama.cpp's "
            f"llama-server, `assistant models serve`), set ASSISTANT_LLM__OPENAI_BASE_URL, {FALLBACK_HINT} ({reason})")

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
        return logged(self.name, self.model, messages, self.stream_pieces(messages, max_tokens, temperature))

    def stream_pieces(self, messages: Messages, max_tokens: int, temperature: float) -> Iterator[str]:
        """The reply's text pieces, without the log wrapper (for backends that wrap this one)."""
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

    def first_token_logprobs(self, messages: Messages, *, top: int) -> dict[str, float]:
        """Log-probabilities of the `top` most likely first reply tokens (one token, temperature 0, not streamed):
        what a yes/no judge reads. {} when the server reports none."""
        import httpx

        body = {"model": self.model, "messages": messages, "stream": False, "max_tokens": 1, "temperature": 0.0,
                "logprobs": True, "top_logprobs": top}
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, CHECK_TIMEOUT_S))
        try:
            response = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=self._headers(),
                                  timeout=timeout, trust_env=False)
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(f"OpenAI-compatible server at {self.base_url} timed out after "
                                     f"{self.timeout_s:.0f}s: raise ASSISTANT_LLM__TIMEOUT_S") from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(type(exc).__name__) from exc
        if response.status_code >= 400:
            raise BackendUnavailable(f"OpenAI-compatible server at {self.base_url} refused the request "
                                     f"(HTTP {response.status_code}): {response.text[:200]}")
        return parse_top_logprobs(response.json())


def parse_top_logprobs(reply: object) -> dict[str, float]:
    """{token: logprob} of the first generated token's candidates in a chat-completions reply ({} when absent)."""
    try:
        first = reply["choices"][0]["logprobs"]["content"][0]  # type: ignore[index]
        return {str(c["token"]): float(c["logprob"]) for c in first.get("top_logprobs") or [first]}
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return {}


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
