"""The no-LLM answerer: the best-supported sentences of the retrieved passages, each cited, verified by construction.

Every sentence (for message passages: every message's English text) is scored against the question:

- lexical: the question's content words in the sentence, IDF-weighted over the retrieved sentences (a question
  word no sentence holds keeps the highest weight and pulls every score down: that makes refusal work); the
  question's identifiers (phone numbers digit-normalised, registrations, e-mails, handles, names, dates) take
  `id_share` of the lexical score (`id_share_hard` for hard identifiers: exact phone numbers or plates);
- dense: cosine of the question embedding with the sentence in its context, rescaled from [dense_low, dense_high]
  to [0, 1]: `window_share` of it is the cosine of the sentence's window (its vector plus `neighbour_weight` times
  each neighbouring unit's of the same passage), the rest the sentence's own;
- support = w * lexical + (1 - w) * dense, in [0, 1], with w = `lexical_weight`, or `lexical_weight_ids` when the
  question holds a hard identifier (number, date, registration, e-mail, handle) that embeddings cannot see; times
  `focus_penalty` when the sentence shares none of the question's non-name words (unless it is a message holding
  all the question's identifiers, its timestamp's date included: `assistant.answer.scoring.message_dates`).
- answer type: when the question asks for a kind of value (`assistant.answer.answer_type`), a sentence holding no
  such value that the question does not already hold scores 0 (on topic but cannot be the answer).

Refusal (`refusal_floor`): support against `support_threshold` (or the ClapNQ-fitted combiner,
`assistant.answer.answerability`). Up to `settings.max_sentences` non-redundant sentences clearing the floor are
quoted, best first, each cited [n] (re-checked verbatim); a lead-in (ends with ":", a heading, or continued by
"He/She/They ...") is quoted with the next unit (`_follow_on`). None: "Not found in the case material (...)",
status no_evidence. Instruction-like sentences are never used. A value question leads with the value (`value_lead`);
who/where quotes first the sentence naming the doer or place (`part_focus`); a quoted message names its sender.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer.answer_type import satisfies
from assistant.answer.answerability import combiner_floor
from assistant.answer.expectation import Expectation, expected_type
from assistant.answer.message_cite import sent_by
from assistant.answer.part_focus import fitting_first
from assistant.answer.scoring.message_dates import dated_message, with_dates_readable
from assistant.answer.value_lead import leading_value
from assistant.config import AnswerSettings, SentenceScoring
from assistant.text.identifiers import Identifiers, extract_identifiers
from assistant.text.injection import instruction_units, is_instruction_like
from assistant.text.lexicon import content_terms, words
from assistant.text.quotes import line_span
from assistant.text.sentences import passage_units
from assistant.text.untranslated import untranslated_spans
from assistant.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from assistant.index.embedding import Embedder

log = logging.getLogger(__name__)

_CONTINUES = re.compile(r"[\"“]?(?:He|She|They)\s+(?!is\b|are\b)[a-z]")  # "He told me ...": same subject, more said
QUESTION_NOISE = frozenset(content_terms("tell list describe explain name give show find know mention happen "
                                         "anything information detail details"))


@dataclass(frozen=True)
class ScoredSentence:
    passage: int  # 0-based index into passages
    start: int
    end: int
    text: str
    lexical: float
    dense: float
    support: float


def not_found_text(passages: Sequence[Passage]) -> str:
    sources = len({p.source for p in passages})
    return f"Not found in the case material (searched {len(passages)} passages in {sources} sources)."


def _question_ids(ids: Identifiers) -> list[tuple[str, str]]:
    items = [("n", x) for x in ids.numbers] + [("r", x) for x in ids.regs] + [("e", x) for x in ids.emails]
    items += [("h", x) for x in ids.handles] + [("w", x) for x in ids.names]
    items += [("d", f"{m}-{d}") for _, m, d in ids.dates]
    return items


def _id_found(kind: str, value: str, ids: Identifiers, toks: set[str], low: str) -> bool:
    if kind == "n":
        return value in ids.numbers
    if kind == "r":
        return value in ids.regs
    if kind == "e":
        return value in low
    if kind == "h":
        return value in low or value[1:] in toks
    if kind == "d":
        return value in {f"{m}-{d}" for _, m, d in ids.dates} or value in {f"{m}-None" for _, m, _ in ids.dates}
    return value in toks


def _has_hard_identifier(ids: Identifiers) -> bool:
    return bool(ids.numbers or ids.dates or ids.regs or ids.emails or ids.handles)


def support_threshold(question: str, settings: AnswerSettings) -> float:
    """The refusal threshold for `question`: its support is mostly lexical when it holds a hard identifier."""
    if _has_hard_identifier(extract_identifiers(question)):
        return settings.min_support_identifiers
    return settings.min_support


def refusal_floor(question: str, scored: Sequence[ScoredSentence], passages: Sequence[Passage],
                  settings: AnswerSettings) -> float:
    """The least support a cited sentence needs (math.inf: refuse): the answerability combiner's decision
    (`settings.refusal` "combiner"), else `support_threshold` alone."""
    if settings.refusal != "combiner":
        return support_threshold(question, settings)
    return combiner_floor(question, scored, passages, support_threshold(question, settings), QUESTION_NOISE)


def score_sentences(question: str, passages: Sequence[Passage], *, embedder: Embedder | None,
                    scoring: SentenceScoring | None = None) -> list[ScoredSentence]:
    """Support of every usable sentence of `passages` for `question`, best first (weights: `scoring`, by default
    the settings' defaults)."""
    cfg = scoring or SentenceScoring()
    units: list[tuple[int, int, int]] = []
    context: list[int] = []  # per unit: where its context starts (message line / previous sentence)
    for i, p in enumerate(passages):
        spans = passage_units(p.text, p.kind, p.meta)
        foreign = untranslated_spans(p)
        injected = instruction_units(p.text, spans, paragraphs=p.kind != "messages")
        for k, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if injected[k] or not any(ch.isalpha() for ch in text) or (s, e) in foreign:
                continue  # never evidence: injected instructions, bare numbers, messages nobody has translated
            if p.kind != "messages" and len(spans) > 1 and _fragment(text, first=k == 0, last=k == len(spans) - 1):
                continue  # cut by the chunk boundary; overlapping chunks hold the whole sentence
            units.append((i, s, e))
            context.append(line_span(p.text, s, e)[0] if p.kind == "messages" else spans[k - 1][0] if k else s)
    if not units:
        return []
    texts = [passages[i].text[s:e] for i, s, e in units]
    # message units are scored with their whole line, so the sender and timestamp count as evidence
    score_texts = [_line(passages[i].text, s, e) if passages[i].kind == "messages" else t
                   for (i, s, e), t in zip(units, texts, strict=True)]
    q_all = extract_identifiers(question)
    # names count once, as identifiers; the remaining words say what is asked ("blood type", "passcode")
    names = set(content_terms(" ".join(sorted(q_all.names | ({q_all.initial} if q_all.initial else set())))))
    q_terms = set(content_terms(question)) - QUESTION_NOISE - names
    q_ids = _question_ids(q_all)
    hard = _has_hard_identifier(q_all)
    w = cfg.lexical_weight_ids if hard else cfg.lexical_weight
    # "Who uses 07700 900418?": the identifier is the whole question; "What passcode unlocked HE/3?" is not
    lookup = hard and bool(re.match(r"\s*(?:who|whose|whom|which)\b", question, re.IGNORECASE))
    expect = expected_type(question)
    unit_terms = [set(content_terms(t)) for t in score_texts]
    df: Counter[str] = Counter(t for terms in unit_terms for t in terms & q_terms)
    n = len(units)
    weight = {t: math.log(1.0 + (n + 1) / (df[t] + 1)) for t in q_terms}
    total = sum(weight.values())
    if embedder is not None:
        vecs = embedder.embed_texts(score_texts)
        qv = embedder.embed_query(question)
        cosines = _context_cosines(vecs, qv, [i for i, _, _ in units], cfg)
    else:
        cosines = np.zeros(n)
    gated = 0
    scored: list[ScoredSentence] = []
    for k, (i, s, e) in enumerate(units):
        term_score = sum(weight[t] for t in unit_terms[k] & q_terms) / total if total else 0.0
        lexical = term_score
        id_score = 0.0
        if q_ids:
            ids = extract_identifiers(with_dates_readable(score_texts[k]), subgroups=True)
            toks = {x.lower() for x in words(score_texts[k])}
            low = score_texts[k].lower()
            id_score = sum(_id_found(kind, v, ids, toks, low) for kind, v in q_ids) / len(q_ids)
            share = cfg.id_share_hard if hard else cfg.id_share
            lexical = share * id_score + (1 - share) * term_score if q_terms else id_score
        dense = min(1.0, max(0.0, (float(cosines[k]) - cfg.dense_low) / (cfg.dense_high - cfg.dense_low)))
        support = w * lexical + (1 - w) * dense if embedder is not None else lexical
        dated = dated_message(q_all, bool(expect), passages[i].kind == "messages", id_score)  # of the asked date
        if q_terms and not unit_terms[k] & q_terms and not (lookup and id_score == 1.0) and not dated:
            support *= cfg.focus_penalty  # mentions who/what is asked about, but nothing of what is asked
        if expect and not _typed(expect, question, passages[i], s, e, context[k]):
            support = 0.0  # holds nothing of the kind asked for
            gated += 1
        scored.append(ScoredSentence(i, s, e, texts[k], lexical, dense, support))
    if expect:
        log.debug("extractive answer_type=%s gated=%d/%d", expect.label(), gated, n)
    scored.sort(key=lambda x: (-x.support, x.passage, x.start))
    return scored


def _context_cosines(vecs: np.ndarray, qv: np.ndarray, owner: list[int], cfg: SentenceScoring) -> np.ndarray:
    """Per unit: the question's cosine with the unit, mixed (`window_share`) with its cosine with the unit's window.
    `owner[k]` is unit k's passage: windows do not cross passages."""
    vecs = np.asarray(vecs, dtype=np.float64)
    q = np.asarray(qv, dtype=np.float64)
    windows = vecs.copy()
    for k in range(len(owner)):
        for j in (k - 1, k + 1):
            if 0 <= j < len(owner) and owner[j] == owner[k]:
                windows[k] += cfg.neighbour_weight * vecs[j]
    norms = np.linalg.norm(windows, axis=1)
    window_cos = (windows @ q) / np.where(norms > 0, norms, 1.0)
    share = cfg.window_share
    return np.asarray((1 - share) * (vecs @ q) + share * window_cos, dtype=np.float64)


def _typed(expect: Expectation, question: str, passage: Passage, start: int, end: int, context: int) -> bool:
    """The answer-type gate for one unit. Indexed passages always carry `entities_json` (possibly empty): they
    went through the PII tagger, so a missing PERSON/DATE/place entity means something."""
    tagged = bool(passage.entities) or "entities_json" in passage.meta
    return satisfies(expect, question, passage.text, start, end, passage.entities, context_start=context,
                     message=passage.kind == "messages", tagged=tagged)


def _fragment(text: str, *, first: bool, last: bool) -> bool:
    starts_mid = first and text[:1].islower()
    ends_mid = last and not text.rstrip().endswith((".", "!", "?", '"', "'", "”", ")", ":"))
    return starts_mid or ends_mid


def _line(text: str, start: int, end: int) -> str:
    return text[slice(*line_span(text, start, end))].strip()


def select_sentences(scored: Sequence[ScoredSentence], settings: AnswerSettings,
                     min_support: float | None = None) -> list[ScoredSentence]:
    """Up to max_sentences best sentences above the threshold, skipping near-duplicates."""
    threshold = settings.min_support if min_support is None else min_support
    chosen: list[ScoredSentence] = []
    seen: list[set[str]] = []
    for cand in scored:
        if cand.support < threshold or len(chosen) >= settings.max_sentences:
            break
        terms = set(content_terms(cand.text))
        if any(len(terms & t) / max(1, len(terms | t)) >= settings.scoring.redundant_jaccard for t in seen):
            continue
        chosen.append(cand)
        seen.append(terms)
    return chosen


def extractive_answer(question: str, case: str, passages: Sequence[Passage], *, embedder: Embedder | None,
                      settings: AnswerSettings, scored: Sequence[ScoredSentence] | None = None) -> Answer:
    """Answer from the retrieved passages alone; see the module docstring. `scored` reuses an earlier scoring."""
    if scored is None:
        scored = score_sentences(question, passages, embedder=embedder, scoring=settings.scoring)
    floor = refusal_floor(question, scored, passages, settings)
    chosen = fitting_first(question, scored, passages, select_sentences(scored, settings, floor), floor,
                           settings.max_sentences)
    retrieved = tuple(passages)
    if not chosen:
        log.info("extractive no_evidence passages=%d best=%.3f", len(passages), scored[0].support if scored else 0.0)
        return Answer(question=question, case=case, status="no_evidence", answer=not_found_text(passages),
                      backend="extractive", retrieved=retrieved)
    citations: list[Citation] = []
    parts: list[str] = []
    covered: list[tuple[int, int, int]] = []
    for sent in chosen:
        p = passages[sent.passage]
        end = _follow_on(p, sent.start, sent.end)
        if any(i == sent.passage and s <= sent.start and sent.end <= e for i, s, e in covered):
            continue  # already quoted as the follow-on of a better sentence
        covered.append((sent.passage, sent.start, end))
        quote = p.text[sent.start : end]
        verified = p.text.find(quote, sent.start) == sent.start and quote.startswith(sent.text)
        citations.append(Citation(n=len(citations) + 1, chunk_id=p.chunk_id, source=p.source, locator=p.locator,
                                  quote=quote, text=p.text, verified=verified, quote_start=sent.start))
        parts.append(sent_by(p, sent.start, end) + _cited(" ".join(quote.lstrip("# ").split()), len(citations)))
    log.info("extractive answered passages=%d sentences=%d best=%.3f", len(passages), len(chosen), chosen[0].support)
    lead = leading_value(question, passages[chosen[0].passage], chosen[0].start, chosen[0].end)  # "KV19 TLN — ..."
    text = f"{lead} — {' '.join(parts)}" if lead else " ".join(parts)
    return Answer(question=question, case=case, status="answered", answer=text, backend="extractive",
                  citations=tuple(citations), retrieved=retrieved)


def _follow_on(passage: Passage, start: int, end: int) -> int:
    """Where the quote of the unit [start, end) should end: a lead-in ("I cautioned him and he replied:"), a heading
    ("## Why the case was closed") or a sentence continued by a pronoun ("... an interview with Kacper. He told me
    ...") is quoted with the unit after it, where the answer is. Messages stand alone."""
    if passage.kind == "messages":
        return end
    units = passage_units(passage.text, passage.kind, passage.meta)
    nxt = next((u for u in units if u[0] >= end), None)
    if nxt is None or is_instruction_like(passage.text[nxt[0] : nxt[1]]):
        return end
    unit = passage.text[start:end].strip()
    lead_in = unit.endswith(":") or unit.startswith("#")
    if lead_in or _CONTINUES.match(passage.text, nxt[0]):
        return nxt[1]
    return end


def _cited(sentence: str, n: int) -> str:
    end = sentence[-1] if sentence and sentence[-1] in ".!?" else ""
    return f"{sentence[:len(sentence) - len(end)]} [{n}]{end}"
