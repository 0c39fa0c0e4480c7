"""Test doubles that go through the real interfaces. `ScriptedBackend` satisfies `assistant.llm.Backend`: it replays
queued replies, records every call's messages and settings, and streams each reply in `pieces` parts. Queue an
exception to make a call fail mid-stream."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from assistant.errors import BackendUnavailable
from assistant.llm.base import Messages, logged


class ScriptedBackend:
    name = "fake"

    def __init__(self, replies: Iterable[str | BaseException] = (), *, model: str = "scripted", pieces: int = 3,
                 unavailable: str = "") -> None:
        self.model = model
        self.pieces = max(1, pieces)
        self.unavailable = unavailable  # when set, check() raises BackendUnavailable with this message
        self.selection_note = ""
        self.max_passages = 0  # every retrieved passage
        self.served_models: tuple[str, ...] = ()
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
        return logged(self.name, self.model, messages, self._split(reply))

    def _split(self, reply: str | BaseException) -> Iterator[str]:
        if isinstance(reply, BaseException):
            raise reply
        size = max(1, -(-len(reply) // self.pieces))
        for start in range(0, len(reply), size):
            yield reply[start:start + size]


class ScriptedLogprobBackend(ScriptedBackend):
    """A `ScriptedBackend` that also reports first-token log-probabilities (`assistant.answer.judge.LogprobBackend`),
    as the local llama.cpp runtime and OpenAI-compatible servers do: queue one {token: logprob} dict per call."""

    def __init__(self, logprobs: Iterable[dict[str, float] | BaseException] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.logprobs: deque[dict[str, float] | BaseException] = deque(logprobs)

    def first_token_logprobs(self, messages: Messages, *, top: int) -> dict[str, float]:
        self.prompts.append([dict(m) for m in messages])
        self.calls.append({"top": top})
        if not self.logprobs:
            raise RuntimeError("ScriptedLogprobBackend has no log-probabilities queued")
        item = self.logprobs.popleft()
        if isinstance(item, BaseException):
            raise item
        return dict(list(item.items())[:top])
