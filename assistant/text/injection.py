"""Prompt-injection detection: text addressed to an AI is never used as evidence.

`instruction_units` also blocks the units that follow an instruction-like unit in the same paragraph (no blank line
between them): an injected block goes on past its first recognisable sentence ("SYSTEM: ignore previous
instructions ...", then more orders in plain words), and those lines are not statements of fact either."""

from __future__ import annotations

import re
from collections.abc import Sequence

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:instructions?|prompts?|rules?|context|above)\b"
    r"|\b(?:system prompt|you are now|act as|pretend to be|new instructions?)\b"
    r"|\b(?:assistant|ai|model|chatbot|language model)\b[^.\n]{0,30}\b(?:must|should|will)\b[^.\n]{0,20}"
    r"\b(?:say|answer|respond|reply|state)\b",
    re.IGNORECASE,
)


def is_instruction_like(text: str) -> bool:
    """Text addressed to an AI rather than a statement of fact (prompt injection); never used as evidence."""
    return bool(_INSTRUCTION.search(text))


def instruction_units(text: str, spans: Sequence[tuple[int, int]], *, paragraphs: bool = True) -> list[bool]:
    """Per unit span of `text`: instruction-like, or (with `paragraphs`; not for message lines, each its own
    message) in the same paragraph right after one that is."""
    blocked: list[bool] = []
    for k, (s, e) in enumerate(spans):
        follows = paragraphs and k > 0 and blocked[-1] and "\n\n" not in re.sub(r"[ \t]+", "", text[spans[k - 1][1]:s])
        blocked.append(is_instruction_like(text[s:e]) or follows)
    return blocked
