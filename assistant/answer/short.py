"""The short-answer path (answer, then attribute): the model writes only the answer; the product cites it.

`render_short_messages` asks for the short answer (prompts/short_answer_*.j2, passages as data, message timestamps
written out). `short_value` reads the reply's answer ("" for NOT FOUND). `attributed_draft` turns the answer into a
draft the verifier checks: each sentence `assistant.verify.attribute.attribute` found, cited `[n]`. The answerer then
shows "<answer>: <first verified sentence> [n]" and the other verified sentences, or removes the answer (and says
so) when no retrieved sentence holds it. Which path a backend takes: setting `llm.answer_style`: `claims` (a direct
answer then cited claims, prompts/answer_*.j2), `short` (this path) or `auto` (this path for the local `llamacpp`
model, claims for the others; chosen on HotpotQA dev questions, docs/evals.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.answer.prompts import render
from assistant.types import Passage
from assistant.verify.attribute import Sentence, attribute, is_yes_no_question

if TYPE_CHECKING:
    from assistant.config import Settings

SHORT_PROMPT_VERSION = "short-answer-v3"
SHORT_MAX_TOKENS = 32  # a short answer is a few words; the bound keeps a rambling small model fast
MAX_ANSWER_WORDS = 12  # a longer reply is a sentence, not an answer: its first clause is kept when short enough
_MARKERS = re.compile(r"\s*\[\s*(?:passage\s*)?\d{1,3}(?:\s*[,;\-–]\s*\d{1,3})*\s*\]", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:[-*•]\s*)?(?:(?:final|short|direct)\s+)?(?:answer|reply)\s*:\s*", re.IGNORECASE)
_NOT_FOUND = re.compile(r"^\W*not\s+found\b", re.IGNORECASE)
_YES_NO = re.compile(r"^(yes|no)\b(?![-'’])", re.IGNORECASE)


def render_short_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """System + user messages asking for the short answer. Passage n in the prompt is `passages[n-1]`."""
    system = render("short_answer_system")
    user = render("short_answer_user", question=question, passages=list(passages),
                  yes_no=is_yes_no_question(question))
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def uses_short_answers(settings: Settings, backend_name: str) -> bool:
    style = settings.llm.answer_style
    return style == "short" or (style == "auto" and backend_name == "llamacpp")


def is_not_found(reply: str) -> bool:
    first = next((line for line in reply.splitlines() if line.strip()), "")
    return bool(_NOT_FOUND.match(first.replace("*", "")))


def short_value(reply: str, question: str) -> str:
    """The answer on the reply's first non-empty line: "Answer:", markers, bold, quotes and the closing full stop
    removed; "Yes"/"No" alone when a yes/no question's reply starts with one; "" for NOT FOUND or no reply."""
    first = next((line for line in reply.splitlines() if line.strip()), "")
    if _NOT_FOUND.match(first.replace("*", "")):
        return ""
    value = _MARKERS.sub("", _LEAD.sub("", first.replace("**", ""), count=1))
    value = " ".join(value.split()).strip(" \"'“”`")
    yes_no = _YES_NO.match(value) if is_yes_no_question(question) else None
    if yes_no:
        return yes_no.group(1).capitalize()
    value = value.rstrip(" .;,").strip(" \"'“”`")
    if len(value.split()) > MAX_ANSWER_WORDS:
        clause = re.split(r"[,;:]| - ", value, maxsplit=1)[0].strip()
        value = clause if len(clause.split()) <= MAX_ANSWER_WORDS else value
    return value


def attributed_draft(value: str, question: str, sentences: Sequence[Sentence], threshold: float) -> str:
    """The cited sentences holding `value` as a draft for the verifier ("" when none holds it)."""
    cited = attribute(value, question, sentences, threshold)
    return "\n".join(f"{' '.join(s.text.split())} [{s.passage + 1}]" for s in cited)


def lead_with(value: str, verified_text: str) -> str:
    """"<value>: <first verified line>" then the other lines: what the reader sees first is the answer."""
    first, _, rest = verified_text.partition("\n")
    return f"{value}: {first}" + (f"\n{rest}" if rest else "")


def removed_answer_note(value: str) -> str:
    return (f"The model's answer “{' '.join(value.split())}” was removed: no retrieved sentence holds it "
            "(or none held it that verified).")
