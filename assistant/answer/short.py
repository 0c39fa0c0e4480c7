"""The short-answer path (answer, then attribute): the model writes only the answer; the product cites it.

`render_short_messages` asks for the short answer (prompts/short_answer_*.j2, passages as data, message timestamps
written out). `short_value` reads the reply's answer ("" for NOT FOUND). `attributed_draft` turns the answer into a
draft the verifier checks: each sentence `assistant.verify.attribute.attribute` found, cited `[n]`. The answerer then
shows "<answer>: <first verified sentence> [n]" and the other verified sentences, or removes the answer (and says
so) when no retrieved sentence holds it. `focused_attribution` checks the attribution of a who / where / when answer
as the extractive path does (`assistant.answer.part_focus`): when the sentence holding the model's answer does not
say who did the asked-for event, where or when (a review note's "Officer in the case: DC A" for "Who arrested B?", a
release date for "When was B arrested?"), and a sentence that does clears `FIT_SHARE` of the support threshold, the
answer is read from that sentence instead and a note names the model's answer. `with_senders` makes a cited message
say who sent it to whom, from the message record (`message_cite.sent_by`).
Which path a backend takes: setting `llm.answer_style`: `claims` (a direct answer then cited claims,
prompts/answer_*.j2), `short` (this path) or `auto` (this path for the local `llamacpp` model, claims for the others;
chosen on HotpotQA dev questions, docs/evals.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.answer.message_cite import sent_by
from assistant.answer.part_focus import FIT_SHARE, event_dates, event_stems, fits_scored, focus_kind, sentence_entities
from assistant.answer.prompts import render
from assistant.answer.value_lead import leading_value
from assistant.types import Citation, Passage
from assistant.verify.attribute import Sentence, attribute, is_yes_no_question

if TYPE_CHECKING:
    from assistant.answer.extractive import ScoredSentence
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
    return draft_of(attribute(value, question, sentences, threshold))


def draft_of(cited: Sequence[Sentence]) -> str:
    return "\n".join(f"{' '.join(s.text.split())} [{s.passage + 1}]" for s in cited)


_ASKED = {"who": "who did it", "where": "where it happened", "when": "when it happened"}


def _answer_fits(value: str, s: ScoredSentence, kind: str, question: str, passages: Sequence[Passage]) -> bool:
    """Whether `s` says who/where/when the asked-for event happened and, for "when", the model's date is the one the
    parse places under the event's verb (not another verb's date in the same sentence)."""
    if not fits_scored(s, kind, event_stems(question), passages, question):
        return False
    at = s.text.casefold().find(value.casefold())
    if kind != "when" or at < 0:
        return True
    p = passages[s.passage]
    governed = event_dates(question, s.text, sentence_entities(p, s.start, s.end))
    return governed is None or any(a <= at < b for a, b in governed)


def focused_attribution(value: str, question: str, sentences: Sequence[ScoredSentence],
                        passages: Sequence[Passage], threshold: float) -> tuple[str, list[ScoredSentence], str]:
    """(answer, sentences to cite, note): `attribute`'s sentences, or, for a who/where/when question whose answer
    sits in a sentence that does not say it (see the module docstring), the fitting sentence and the value read
    from it (note: what the model said). Unchanged when no fitting sentence reaches the bar."""
    cited: list[ScoredSentence] = list(attribute(value, question, sentences, threshold))  # type: ignore[arg-type]
    kind = focus_kind(question)
    if not cited or not kind or not event_stems(question) or _answer_fits(value, cited[0], kind, question, passages):
        return value, cited, ""
    bar = threshold * FIT_SHARE
    fit = next((s for s in sentences if s.support >= bar and fits_scored(s, kind, event_stems(question), passages,
                                                                          question)), None)
    if fit is None:
        return value, cited, ""
    if attribute(value, question, [fit], threshold, bridge=False) and _answer_fits(value, fit, kind, question,
                                                                                    passages):
        return value, [fit, *(s for s in cited if s != fit)], ""  # the model was right; cite where it is said
    new = leading_value(question, passages[fit.passage], fit.start, fit.end)
    note = (f"The model answered “{' '.join(value.split())}” from a sentence that does not say {_ASKED[kind]}; "
            "the answer is read from the sentence that does.")
    return new, [fit], note


def with_senders(text: str, citations: Sequence[Citation], passages: Sequence[Passage]) -> str:
    """Each line of a verified answer that cites a message opens with "Sent by A to B: " from the message record."""
    by_id = {p.chunk_id: p for p in passages}
    by_n = {c.n: c for c in citations}
    out = []
    for line in text.splitlines():
        mark = re.search(r"\[(\d{1,3})\]\W*$", line)
        c = by_n.get(int(mark.group(1))) if mark else None
        p = by_id.get(c.chunk_id) if c is not None else None
        prefix = sent_by(p, c.quote_start, c.quote_start + len(c.quote)) if p and c and c.quote_start >= 0 else ""
        out.append(prefix + line if prefix and not line.startswith(prefix) else line)
    return "\n".join(out)


def lead_with(value: str, verified_text: str) -> str:
    """"<value>: <first verified line>" then the other lines: what the reader sees first is the answer (the verified
    lines alone when there is no value to lead with)."""
    if not value:
        return verified_text
    first, _, rest = verified_text.partition("\n")
    return f"{value}: {first}" + (f"\n{rest}" if rest else "")


def removed_answer_note(value: str) -> str:
    return (f"The model's answer “{' '.join(value.split())}” was removed: no retrieved sentence holds it "
            "(or none held it that verified).")
