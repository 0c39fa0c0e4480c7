"""What the answerer needs from a model, and the log wrapper every backend streams through.

A backend is one small class: `check()` raises `BackendUnavailable` with a fix the user can apply, and
`stream_chat()` yields text pieces as they arrive. Logs carry sizes, hashes and timings, never prompt or reply text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
FALLBACK_HINT = "or set ASSISTANT_LLM__BACKEND=extractive"


class Backend(Protocol):
    """A model that writes a draft. `selection_note` says why it was chosen ("" when configured explicitly);
    `served_models` lists what a server says it serves (empty when unknown); `max_passages` is how many of the top
    retrieved passages the model is shown (0: all)."""

    name: str  # "ollama" | "openai" | "llamacpp" (test doubles use their own)
    model: str
    selection_note: str
    served_models: tuple[str, ...]
    max_passages: int

    def check(self) -> None: ...

    def stream_chat(self, messages: Messages, *, max_tokens: int, temperature: float) -> Iterator[str]: ...


def fingerprint(messages: Messages) -> tuple[int, str]:
    """Total characters and a short sha256 of the prompt: enough to correlate log lines, reveals no text."""
    digest = hashlib.sha256()
    for message in messages:
        digest.update(message.get("role", "").encode() + b"\x00" + message.get("content", "").encode() + b"\x01")
    return sum(len(m.get("content", "")) for m in messages), digest.hexdigest()[:12]


def logged(backend: str, model: str, messages: Messages, pieces: Iterator[str]) -> Iterator[str]:
    """Pass pieces through, logging size and timing of the prompt and the reply (never their text)."""
    prompt_chars, prompt_sha = fingerprint(messages)
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
            close()  # release the HTTP stream now, not at garbage collection
        log.info("llm.reply backend=%s model=%s prompt_sha=%s outcome=%s pieces=%d reply_chars=%d first_piece_s=%.3f "
                 "total_s=%.3f", backend, model, prompt_sha, outcome, count, chars, first_s,
                 time.perf_counter() - started)


def is_smoke_model(names: Sequence[str], smoke_fragments: Sequence[str]) -> bool:
    """True when any of `names` (a model name, a served model id, a file path) contains a smoke-test fragment
    (e.g. "smollm2"): such a model only proves the plumbing, and the UI warns that its answers are not to be used."""
    fragments = [f.lower() for f in smoke_fragments if f]
    return any(fragment in name.lower() for name in names if name for fragment in fragments)
