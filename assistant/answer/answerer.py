"""From retrieved passages to a verified Answer, with an LLM backend or extractively.

Order of decisions:
1. No passages, or no sentence whose extractive support reaches the threshold (`support_threshold`) -> no_evidence,
   without calling the model (retrieval-level refusal gate; the LLM never sees irrelevant material). The short-answer
   path (assistant/answer/short.py) gates lower, at `answer.short_min_support`: its answer must still be found in a
   retrieved sentence and verified, which refuses on its own (the setting's description gives the dev numbers).
2. No backend (extractive answering, chosen by settings or by `auto`) -> `extractive_answer` (verified by
   construction).
3. Otherwise: prompt -> stream the draft (deltas are yielded as they arrive) -> `verify_draft`.
   - claims survive -> answered with only those claims and their verified citations; removed claims are listed
     in `flagged_claims` and named in a note (`removed_note`);
   - the model said NOT FOUND and nothing survived -> no_evidence, unless the best sentence clears the gate by
     the setting `answer.strong_margin`, in which case the extractive answer is shown with a note saying the
     model found nothing;
   - nothing verifiable -> the extractive answer with the note "The model's draft had no verifiable claims;
     showing extractive answer." (or no_evidence when that refuses too);
   - the backend fails mid-answer -> the extractive answer with a note naming the failure type.
   Fallback answers carry backend="extractive" (that is what wrote the text) plus the model and prompt version
   that were tried.
Every citation returned is verified (quoted verbatim from its passage); unsupported claims never reach the
answer text unless `mark_unsupported=True`, and then only with the visible "⚠ unsupported:" prefix and no marker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.answer.direct import expand_direct_answers
from assistant.answer.extractive import (
    ScoredSentence,
    extractive_answer,
    not_found_text,
    score_sentences,
    support_threshold,
)
from assistant.answer.short import (
    SHORT_MAX_TOKENS,
    SHORT_PROMPT_VERSION,
    draft_of,
    focused_attribution,
    lead_with,
    removed_answer_note,
    render_short_messages,
    short_value,
    uses_short_answers,
    with_senders,
)
from assistant.config import Settings
from assistant.errors import BackendUnavailable
from assistant.text.untranslated import machine_note, untranslated_note
from assistant.types import Answer, Passage
from assistant.verify.verifier import verify_draft

if TYPE_CHECKING:
    from assistant.index.embedding import Embedder
    from assistant.llm import Backend

log = logging.getLogger(__name__)

NO_VERIFIABLE = "The model's draft had no verifiable claims; showing extractive answer."
MODEL_NOT_FOUND = "The model answered NOT FOUND, but closely matching sentences exist; showing extractive answer."


class Answerer:
    """Answers questions over retrieved passages with `backend`, verifying every cited claim."""

    def __init__(self, settings: Settings, backend: Backend | None, embedder: Embedder, *,
                 mark_unsupported: bool = False, selection_note: str = "") -> None:
        self.settings = settings
        self.backend = backend
        self.selection_note = selection_note
        self.embedder = embedder
        self.mark_unsupported = mark_unsupported

    def answer(self, question: str, case: str, passages: Sequence[Passage]) -> Answer:
        final: Answer | None = None
        for item in self.stream(question, case, passages):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream always ends with an Answer
        return final

    def stream(self, question: str, case: str, passages: Sequence[Passage]) -> Iterator[str | Answer]:
        """Text deltas while the model writes, then the final verified Answer (always last)."""
        for item in self._stream(question, case, passages):
            yield with_ocr_note(item) if isinstance(item, Answer) else item

    def _stream(self, question: str, case: str, passages: Sequence[Passage]) -> Iterator[str | Answer]:
        passages = list(passages)
        base_notes = tuple(n for n in (self.selection_note, untranslated_note(passages)) if n)
        scored = score_sentences(question, passages, embedder=self.embedder.for_case(case),
                                 scoring=self.settings.answer.scoring) if passages else []
        best = scored[0].support if scored else 0.0
        if self.backend is None:
            answer = extractive_answer(question, case, passages, embedder=self.embedder.for_case(case),
                                       settings=self.settings.answer, scored=scored)
            answer = replace(answer, notes=base_notes + answer.notes)
            yield answer.answer
            yield answer
            return
        backend = self.backend
        model = backend.model
        threshold = support_threshold(question, self.settings.answer)
        gate = min(threshold, self.settings.answer.short_min_support) if uses_short_answers(
            self.settings, backend.name) else threshold
        if best < gate:
            log.info("answer gate=refused passages=%d best=%.3f", len(passages), best)
            note = (f"No retrieved passage is relevant enough (best support {best:.2f} < "
                    f"{gate:.2f}); the model was not asked.")
            answer = Answer(question=question, case=case, status="no_evidence", answer=not_found_text(passages),
                            backend=backend.name, retrieved=tuple(passages), model=model,
                            notes=(*base_notes, note))
            yield answer.answer
            yield answer
            return
        yield from self._generate(backend, question, case, passages, scored, base_notes, threshold)

    def _generate(self, backend: Backend, question: str, case: str, passages: list[Passage],
                  scored: Sequence[ScoredSentence], base_notes: tuple[str, ...],
                  threshold: float) -> Iterator[str | Answer]:
        from assistant.answer.prompts import PROMPT_VERSION, render_answer_messages

        model = backend.model
        shown = passages[:backend.max_passages] if backend.max_passages > 0 else passages  # what the model reads
        short = uses_short_answers(self.settings, backend.name)
        version = SHORT_PROMPT_VERSION if short else PROMPT_VERSION
        messages = render_short_messages(question, shown) if short else render_answer_messages(question, shown)
        limit = min(SHORT_MAX_TOKENS, self.settings.llm.max_tokens) if short else self.settings.llm.max_tokens
        pieces: list[str] = []
        try:
            for delta in backend.stream_chat(messages, max_tokens=limit, temperature=self.settings.llm.temperature):
                pieces.append(delta)
                yield delta
        except Exception as exc:  # a failing model must not lose the evidence: fall back, say so
            log.warning("answer backend_failed backend=%s error=%s", backend.name, type(exc).__name__)
            fallback = self._extractive(question, case, passages, scored)
            why = str(exc) if isinstance(exc, BackendUnavailable) else type(exc).__name__
            note = f"The model backend failed ({why}); showing extractive answer."
            yield replace(fallback, model=model, prompt_version=version, notes=(*base_notes, note, *fallback.notes))
            return
        readable = [_open_end(s) for s in scored if s.passage < len(shown)]
        if short:
            yield self._short(question, case, passages, scored, "".join(pieces), base_notes, threshold)
            return
        draft = self._expand_bare_values("".join(pieces), readable, threshold, shown, case)
        verified = verify_draft(draft, shown, embedder=self.embedder.for_case(case), settings=self.settings.answer,
                                mark_unsupported=self.mark_unsupported)
        notes = list(base_notes)
        if verified.dropped_refs:
            notes.append("Dropped citations to passages that were not retrieved: "
                         + ", ".join(f"[{n}]" for n in verified.dropped_refs) + ".")
        if verified.flagged:
            notes.append(removed_note(verified.flagged) if not self.mark_unsupported else
                         f"{len(verified.flagged)} claim(s) marked unsupported by the cited passages.")
        notes.extend(verified.notes)
        log.info("answer verified kept=%d flagged=%d not_found=%s best=%.3f", verified.kept, len(verified.flagged),
                 verified.not_found, scored[0].support if scored else 0.0)
        if verified.kept > 0:
            yield Answer(question=question, case=case, status="answered", answer=verified.text,
                         backend=backend.name, citations=verified.citations, retrieved=tuple(passages),
                         model=model, prompt_version=PROMPT_VERSION, notes=tuple(notes),
                         flagged_claims=verified.flagged)
            return
        strong = bool(scored) and scored[0].support >= threshold + self.settings.answer.strong_margin
        if verified.not_found and not strong:
            yield Answer(question=question, case=case, status="no_evidence", answer=not_found_text(passages),
                         backend=backend.name, retrieved=tuple(passages), model=model,
                         prompt_version=PROMPT_VERSION, notes=tuple(notes), flagged_claims=verified.flagged)
            return
        notes.append(MODEL_NOT_FOUND if verified.not_found else NO_VERIFIABLE)
        fallback = self._extractive(question, case, passages, scored)
        yield replace(fallback, model=model, prompt_version=PROMPT_VERSION, notes=(*notes, *fallback.notes),
                      flagged_claims=verified.flagged)

    def _short(self, question: str, case: str, passages: list[Passage], scored: Sequence[ScoredSentence],
               reply: str, base_notes: tuple[str, ...], threshold: float) -> Answer:
        """Answer, then attribute (assistant/answer/short.py): the reply's short answer led by the verified
        sentences that hold it; removed (and said) when none does; the model's NOT FOUND handled as for claims."""
        assert self.backend is not None
        backend = self.backend
        shown = passages[:backend.max_passages] if backend.max_passages > 0 else passages
        said = value = short_value(reply, question)
        readable = [s for s in scored if s.passage < len(shown)]
        value, cited, focus = focused_attribution(value, question, readable, shown, threshold) if value else (
            value, [], "")
        draft = draft_of(cited)
        verified = verify_draft(draft, shown, embedder=self.embedder.for_case(case), settings=self.settings.answer)
        log.info("answer short value_words=%d attributed=%d kept=%d refocused=%s", len(said.split()),
                 len(draft.splitlines()), verified.kept, bool(focus))
        if said and verified.kept > 0:
            text = lead_with(value, with_senders(verified.text, verified.citations, shown))
            return Answer(question=question, case=case, status="answered", answer=text,
                          backend=backend.name, citations=verified.citations, retrieved=tuple(passages),
                          model=backend.model, prompt_version=SHORT_PROMPT_VERSION,
                          notes=(*base_notes, *((focus,) if focus else ()), *verified.notes),
                          flagged_claims=(*verified.flagged, *((said,) if focus else ())))
        value = said
        notes = [*base_notes, removed_answer_note(value)] if value else list(base_notes)
        strong = bool(scored) and scored[0].support >= threshold + self.settings.answer.strong_margin
        if not value and not strong:
            return Answer(question=question, case=case, status="no_evidence", answer=not_found_text(passages),
                          backend=backend.name, retrieved=tuple(passages), model=backend.model,
                          prompt_version=SHORT_PROMPT_VERSION, notes=tuple(notes))
        notes.append(MODEL_NOT_FOUND if not value else NO_VERIFIABLE)
        fallback = self._extractive(question, case, passages, scored)
        return replace(fallback, model=backend.model, prompt_version=SHORT_PROMPT_VERSION,
                       notes=(*notes, *fallback.notes), flagged_claims=(value,) if value else ())

    def _expand_bare_values(self, draft: str, readable: Sequence[ScoredSentence], threshold: float,
                            shown: Sequence[Passage], case: str) -> str:
        """The draft with short lines expanded by `expand_direct_answers` where the line as written does not verify
        ("Ilse Marrow [2]"); a short line that verifies as it stands ("Smith was arrested at 14:45 [1].") is kept."""
        raw = draft.splitlines()
        expanded = expand_direct_answers(draft, readable, threshold)[0].splitlines()
        if len(raw) != len(expanded):
            return "\n".join(expanded)
        out = []
        embedder = self.embedder.for_case(case)
        for before, after in zip(raw, expanded, strict=True):
            if before != after:
                alone = verify_draft(before, shown, embedder=embedder, settings=self.settings.answer)
                after = before if alone.kept and not alone.flagged else after
            out.append(after)
        return "\n".join(out)

    def _extractive(self, question: str, case: str, passages: list[Passage],
                    scored: Sequence[ScoredSentence]) -> Answer:
        return extractive_answer(question, case, passages, embedder=self.embedder.for_case(case),
                                 settings=self.settings.answer, scored=scored)


def _open_end(sentence: ScoredSentence) -> ScoredSentence:
    """The sentence without its closing full stop, as `expand_direct_answers` is given it: that function keeps "."
    inside words, so a value ending a sentence ("... designed by Ilse Marrow.") was never found in it and the bare
    value was removed as unsupported (HotpotQA dev questions 0-29; evals/suites/hotpotqa_model.py)."""
    text = sentence.text.rstrip()
    return replace(sentence, text=text[:-1]) if text.endswith(".") and not text.endswith("..") else sentence


def removed_note(flagged: Sequence[str]) -> str:
    """The note naming each claim verification removed, so the reader knows what the model said and was not shown."""
    named = "; ".join(f"“{' '.join(claim.split())}”" for claim in flagged)
    return f"{len(flagged)} claim(s) removed: not supported by the cited passages: {named}."


def with_ocr_note(answer: Answer) -> Answer:
    """The answer with a note when a citation rests on a scanned page that OCR read with low confidence."""
    from assistant.loaders.ocr import LOW_CONFIDENCE

    meta = {p.chunk_id: p.meta for p in answer.retrieved}
    by_id = {p.chunk_id: p for p in answer.retrieved}
    machine = machine_note([(c.n, c.quote) for c in answer.citations],
                           {c.n: by_id[c.chunk_id] for c in answer.citations if c.chunk_id in by_id})
    answer = replace(answer, notes=(*answer.notes, machine)) if machine else answer
    low = []
    for c in answer.citations:
        conf = meta.get(c.chunk_id, {}).get("ocr_confidence")
        if isinstance(conf, int | float) and conf < LOW_CONFIDENCE:
            low.append(f"[{c.n}] ({conf:.0f}/100)")
    if not low:
        return answer
    note = (f"Citation(s) {', '.join(low)} rest on a scanned page read by OCR with low confidence "
            f"(< {LOW_CONFIDENCE:.0f}/100): check the scan before relying on them.")
    return replace(answer, notes=(*answer.notes, note))
