"""A model's short direct answer ("LK19 XRT [1]") made checkable before verification.

Small instruct models often reply with the bare value and a marker instead of a sentence. A bare value cannot be
checked on its own (it states no relation), so each such line is rewritten as "<value>: <sentence> [n]", where the
sentence is the one, among the retrieved sentences that contain the value verbatim, that best supports the question
(and clears the answer's support threshold). The verifier then checks that claim like any other. A value found in
no such sentence is left as it was and the verifier removes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.answer.extractive import ScoredSentence

MAX_VALUE_WORDS = 6  # longer replies are sentences, checked as they are
_LINE = re.compile(r"^\s*(?:[-*•]\s*)?(?:(?:final\s+)?answer\s*:\s*)?(?P<value>[^\[\]\n]{1,80}?)\s*[.;,]?\s*"
                   r"(?P<marks>(?:\[\s*\d{1,3}\s*\]\s*)+)[.]?\s*$", re.IGNORECASE)
_MARK = re.compile(r"\d{1,3}")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w@.+/-]+", " ", text.casefold()).split())


def _contains(sentence: str, value: str) -> bool:
    needle = _norm(value)
    return bool(needle) and f" {needle} " in f" {_norm(sentence)} "


def expand_direct_answers(draft: str, scored: Sequence[ScoredSentence], threshold: float) -> tuple[str, int]:
    """The draft with each bare-value line expanded (see the module docstring), and how many were expanded."""
    out: list[str] = []
    expanded = 0
    for line in draft.splitlines():
        match = _LINE.match(line)
        value = match.group("value").strip(" \"'“”") if match else ""
        if not match or not value or len(value.split()) > MAX_VALUE_WORDS:
            out.append(line)
            continue
        cited = [int(n) - 1 for n in _MARK.findall(match.group("marks"))]
        holding = [s for s in scored if s.support >= threshold and _contains(s.text, value)]
        if not holding:
            out.append(line)
            continue
        best = max(holding, key=lambda s: (s.passage in cited, s.support))
        out.append(f"{value}: {' '.join(best.text.split())} [{best.passage + 1}]")
        expanded += 1
    return "\n".join(out), expanded
