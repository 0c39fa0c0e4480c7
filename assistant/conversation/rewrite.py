"""Follow-up rewriting with the configured model, through prompts/followup_rewrite.j2, checked against the
deterministic resolver: the model's standalone question is used only when it keeps every referent the rules found
and names nobody (no capitalised name, number or registration) that is absent from the question and the
conversation; otherwise the rule-based rewrite stands. A model error never blocks the question."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from assistant.answer.prompts import render
from assistant.conversation.resolver import Resolution, Turn, people
from assistant.llm.base import Backend

log = logging.getLogger(__name__)

TEMPLATE = "followup_rewrite"
PROMPT_VERSION = "followup-v1"
_TOKENS = re.compile(r"\d[\d ]{5,}\d|\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b")
_PREFIX = re.compile(r"^(?:standalone question|rewritten question|question)\s*:\s*", re.I)


def _invented(text: str, known: str) -> list[str]:
    """Names and identifiers of `text` that `known` does not hold (compared case-insensitively, spaces ignored)."""
    flat = re.sub(r"\s+", "", known.lower())
    found = [n for n in people(f"about {text}") if re.sub(r"\s+", "", n.lower()) not in flat]
    return found + [t for t in _TOKENS.findall(text) if re.sub(r"\s+", "", t.lower()) not in flat]


def model_rewrite(backend: Backend, question: str, turns: Sequence[Turn], rule: Resolution) -> Resolution:
    """The model's standalone question when it passes the checks, else `rule` unchanged."""
    if not turns:
        return rule
    recent = list(turns[-3:])
    messages = [{"role": "user", "content": render(TEMPLATE, question=question, turns=recent).strip()}]
    try:
        reply = "".join(backend.stream_chat(messages, max_tokens=80, temperature=0.0))
    except Exception as exc:  # the model is an aid here: the rule-based rewrite is always there
        log.warning("followup_rewrite_failed backend=%s error=%s", backend.name, type(exc).__name__)
        return rule
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line).strip().strip('"“”').strip()
    known = " ".join([question, *(f"{t.searched} {t.answer}" for t in recent)])
    referents = [referent for _, referent in rule.replaced]
    if not line or len(line) > 400 or _invented(line, known) or not all(
            r.lower() in line.lower() for r in referents):
        log.info("followup_rewrite_rejected backend=%s reply_chars=%d", backend.name, len(reply))
        return rule
    return Resolution(rule.question, line, rule.replaced, "" if line != rule.question else rule.unresolved)
