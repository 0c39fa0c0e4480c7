"""Prompt-injection detection: text addressed to an AI is never used as evidence."""

from __future__ import annotations

import re

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
