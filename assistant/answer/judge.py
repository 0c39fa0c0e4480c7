"""The model as an answerability judge: P(the best candidate passages answer the question) from a local model.

The judge shows the model the question and the passages of the best-scored sentences (at most `MAX_PASSAGES`, each
clipped to `CLIP_CHARS` around its best sentence) as data (`prompts/judge_answerable.j2`, version `JUDGE_VERSION`)
and asks for one word, yes or no. A backend that reports the first reply token's log-probabilities (`LogprobBackend`:
the local llama.cpp runtime and OpenAI-compatible servers) gives a probability: the yes-mass over the yes+no mass of
its top tokens ("Yes", "yes", " yes" ... count as yes). Any other backend is asked for the word itself and gives
1.0, 0.0 or 0.5 when the reply is neither. Logs carry counts, timings and the probability, never the text.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from assistant.answer.prompts import render
from assistant.llm.base import Backend, Messages

if TYPE_CHECKING:
    from assistant.answer.extractive import ScoredSentence
    from assistant.types import Passage

log = logging.getLogger(__name__)

JUDGE_VERSION = "judge-v1"
TEMPLATE = "judge_answerable"
MAX_PASSAGES = 2
CLIP_CHARS = 400
TOP_LOGPROBS = 10
UNDECIDED = 0.5


@runtime_checkable
class LogprobBackend(Protocol):
    """A backend that can return the log-probabilities of the first reply token's most likely candidates."""

    def first_token_logprobs(self, messages: Messages, *, top: int) -> dict[str, float]: ...


@dataclass(frozen=True)
class Verdict:
    probability: float  # P(answerable) in [0, 1]
    seconds: float
    graded: bool  # True when read from log-probabilities, False when from the reply word


def _word(token: str) -> str:
    return token.strip().strip(".,!:;\"'").lower()


def yes_probability(logprobs: Mapping[str, float]) -> float:
    """The yes share of the yes+no probability mass among the candidate tokens; UNDECIDED when neither appears."""
    yes = sum(math.exp(lp) for tok, lp in logprobs.items() if _word(tok) == "yes")
    no = sum(math.exp(lp) for tok, lp in logprobs.items() if _word(tok) == "no")
    return yes / (yes + no) if yes + no > 0 else UNDECIDED


def _clip(passage: Passage, start: int, end: int, limit: int) -> Passage:
    if len(passage.text) <= limit:
        return passage
    lo = max(0, min(start - (limit - (end - start)) // 2, len(passage.text) - limit))
    return replace(passage, text=passage.text[lo:lo + limit])


def judge_passages(scored: Sequence[ScoredSentence], passages: Sequence[Passage], *, limit: int = MAX_PASSAGES,
                   clip: int = CLIP_CHARS) -> list[Passage]:
    """The passages of the best sentences, best first, distinct, at most `limit`, each clipped around its sentence."""
    shown: list[Passage] = []
    seen: set[int] = set()
    for sent in scored:
        if sent.passage in seen:
            continue
        seen.add(sent.passage)
        shown.append(_clip(passages[sent.passage], sent.start, sent.end, clip))
        if len(shown) >= limit:
            break
    return shown


def judge_messages(question: str, passages: Sequence[Passage]) -> Messages:
    return [{"role": "user", "content": render(TEMPLATE, question=question, passages=list(passages)).strip()}]


def judge(backend: Backend, question: str, passages: Sequence[Passage]) -> Verdict:
    """P(answerable) for `question` over `passages` (already chosen by `judge_passages`). Raises what the backend
    raises (`BackendUnavailable`): the caller decides the fallback."""
    messages = judge_messages(question, passages)
    started = time.perf_counter()
    if isinstance(backend, LogprobBackend):
        probability, graded = yes_probability(backend.first_token_logprobs(messages, top=TOP_LOGPROBS)), True
    else:
        reply = _word("".join(backend.stream_chat(messages, max_tokens=2, temperature=0.0)))
        probability = 1.0 if reply.startswith("yes") else 0.0 if reply.startswith("no") else UNDECIDED
        graded = False
    seconds = time.perf_counter() - started
    log.info("judge backend=%s model=%s passages=%d p=%.3f graded=%d seconds=%.2f", backend.name, backend.model,
             len(passages), probability, graded, seconds)
    return Verdict(probability, seconds, graded)
