"""Citation verifier on HotpotQA (100 questions, 10 context paragraphs each): does `verify_draft` keep claims the
cited passage supports and remove the ones it does not?

Claim construction (deterministic, no model involved; every claim is run through the real `verify_draft` as a
one-line draft with its [n] marker(s), against the question's ten context paragraphs as the retrieved set):

- positive "sentence": each gold supporting sentence with parentheticals removed, a leading pronoun replaced by
  the paragraph's title (a claim names its subject) and its first word lower-cased when it is a stopword; cited
  to its own paragraph. Near-verbatim, i.e. an extractive-style claim.
- positive "qa": the question turned into a statement with the gold answer appended ("<question without '?'>:
  <answer>."), cited to all gold paragraphs at once ([1][2]); yes/no questions are skipped. The question's
  wording is not the passage's, so this is the harder, paraphrase-like positive.
- negative "distractor": each positive claim cited instead to the non-gold paragraph(s) with the highest
  content-word overlap with it (same topic, same names often, wrong passage).
- diagnostic "distractor_without_gold": the "distractor" claim with the gold paragraph(s) taken out of the
  retrieved set, so re-citing to the passage that states it is impossible and only the support checks of the
  cited passage decide. Reported per kind only (not in precision/recall): it shows what those checks catch alone.
- negative "corrupt_<kind>": a "sentence" claim with one number, date/year or capitalised name replaced by one of
  the same kind taken from a distractor paragraph of the same question (and absent from the gold paragraph);
  "corrupt_negation" inserts "not" after the first auxiliary verb. Cited to the gold paragraph, so only the
  corruption separates it from a positive.

A claim counts as "supported" only when it is kept with the citation it was given: a claim the verifier re-cites to
a passage that states it more closely (`VerifiedDraft.moved`) did not have its own citation accepted.

Reported: precision and recall of "supported" over positives vs all negatives, per-kind rates, the corruption catch
rate (flagged / corrupted), sample sizes, and a small grid over `claim_min_coverage` so the operating point is
visible. By default the packaged embedder is used, as the Answerer does (cosine floor `claim_min_cosine`);
`use_embedder=False` measures the lexical checks alone.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from typing import Any

from assistant.config import Settings
from assistant.text.lexicon import STOPWORDS, content_terms
from assistant.text.sentences import split_sentences
from assistant.types import Passage
from assistant.verify.verifier import verify_draft

log = logging.getLogger(__name__)

QUICK_QUESTIONS = 40
DIAGNOSTIC = frozenset({"distractor_without_gold"})  # reported per kind, left out of precision and recall
_AUX = re.compile(r"\b(is|was|are|were|has|had|have|did|does|can|could|will|would)\b")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_NAME = re.compile(r"\b[a-z][\w,;]* ([A-Z][a-z]+(?: [A-Z][a-z]+)*)")  # a whole capitalised run after a lower word


def _names(text: str) -> list[tuple[int, int, str]]:
    """Maximal runs of capitalised words (trailing stopwords such as "All" trimmed), with their offsets."""
    out = []
    for m in _NAME.finditer(text):
        words = m.group(1).split(" ")
        while words and words[-1].lower() in STOPWORDS:
            words.pop()
        if words and words[0].lower() not in STOPWORDS:
            name = " ".join(words)
            out.append((m.start(1), m.start(1) + len(name), name))
    return out


def _passages(context: list[list[Any]]) -> list[Passage]:
    return [Passage(chunk_id=str(t), case="hotpotqa", source=str(t), locator="", text="".join(s).strip(),
                    score=1.0, rank=i + 1) for i, (t, s) in enumerate(context)]


def _sentence_claim(sentence: str, title: str) -> str:
    text = re.sub(r"\s*\([^()]*\)", "", sentence).strip()
    entity = re.sub(r"\s*\([^()]*\)", "", title).strip()
    pronoun = re.match(r"(He|She|It|They|His|Her|Its|Their)\b", text)
    if pronoun and not text.startswith(entity):  # a claim names its subject (HotpotQA's pronouns mean the title)
        possessive = pronoun.group(1) in ("His", "Her", "Its", "Their")
        text = entity + ("'s" if possessive else "") + text[pronoun.end() :]
    first = text.split(" ", 1)[0]
    if first.lower() in STOPWORDS:
        text = first.lower() + text[len(first):]
    return text if text.endswith((".", "!", "?")) else text + "."


def _cite(claim: str, marks: str) -> str:
    """A draft with `marks` after every sentence of `claim` (HotpotQA "sentences" sometimes hold two)."""
    parts = [claim[s:e] for s, e in split_sentences(claim)] or [claim]
    return " ".join(f"{p[:-1]} {marks}{p[-1]}" if p[-1:] in ".!?" else f"{p} {marks}" for p in parts)


def _overlap(a: str, b: str) -> float:
    ta = set(content_terms(a))
    return len(ta & set(content_terms(b))) / max(1, len(ta))


def _corruptions(claim: str, gold: str, others: list[str]) -> dict[str, str]:
    """One corrupted claim per kind (number, year, name), replacements taken from other paragraphs."""
    out: dict[str, str] = {}
    gold_low = gold.lower()
    pools: dict[str, list[str]] = {"number": [], "year": [], "name": []}
    for text in others:
        for m in _NUMBER.finditer(text):
            kind = "year" if re.fullmatch(r"1[5-9]\d\d|20[0-4]\d", m.group(0)) else "number"
            pools[kind].append(m.group(0))
        pools["name"].extend(name for _, _, name in _names(text))
    for m in _NUMBER.finditer(claim):
        kind = "year" if re.fullmatch(r"1[5-9]\d\d|20[0-4]\d", m.group(0)) else "number"
        if kind in out:
            continue
        repl = next((x for x in pools[kind] if x != m.group(0) and re.sub(r"\D", "", x) not in
                     re.sub(r"[^\d ]", " ", gold).split()), None)
        if repl:
            out[kind] = claim[: m.start()] + repl + claim[m.end() :]
    for start, end, _ in _names(claim):
        repl = next((x for x in pools["name"] if x.lower() not in gold_low), None)
        if repl:
            out["name"] = claim[:start] + repl + claim[end:]
            break
    aux = _AUX.search(claim)
    if aux and " not " not in claim and "n't" not in claim:
        out["negation"] = claim[: aux.end()] + " not" + claim[aux.end() :]
    return out


def build_cases(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(kind, expected, draft, passages) cases; see the module docstring."""
    cases: list[dict[str, Any]] = []
    for item in data:
        passages = _passages(item["context"])
        by_title = {p.chunk_id: i for i, p in enumerate(passages)}
        sents = {str(t): s for t, s in item["context"]}
        gold_titles = [t for t in dict.fromkeys(str(t) for t, _ in item["supporting_facts"]) if t in by_title]
        others = [i for i, p in enumerate(passages) if p.chunk_id not in gold_titles]

        def top_distractors(claim: str, k: int, others: list[int] = others,
                            passages: list[Passage] = passages) -> list[int]:
            return sorted(others, key=lambda j: (-_overlap(claim, passages[j].text), j))[:k]

        for title, idx in item["supporting_facts"]:
            title = str(title)
            if title not in by_title or idx >= len(sents[title]):
                continue
            claim = _sentence_claim(sents[title][idx], title)
            n = by_title[title] + 1
            cases.append({"kind": "sentence", "expected": True, "draft": _cite(claim, f"[{n}]"), "p": passages})
            d = top_distractors(claim, 1)
            cases.append({"kind": "distractor", "expected": False, "draft": _cite(claim, f"[{d[0] + 1}]"),
                          "p": passages})
            without_gold = [passages[i] for i in others]
            cases.append({"kind": "distractor_without_gold", "expected": False, "p": without_gold,
                          "draft": _cite(claim, f"[{others.index(d[0]) + 1}]")})
            other_texts = [passages[i].text for i in others]
            for kind, bad in _corruptions(claim, passages[n - 1].text, other_texts).items():
                cases.append({"kind": f"corrupt_{kind}", "expected": False, "draft": _cite(bad, f"[{n}]"),
                              "p": passages})
        answer = str(item["answer"]).strip()
        if answer.lower() not in ("yes", "no") and gold_titles:
            claim = f"{item['question'].strip().rstrip('?').strip()}: {answer}."
            marks = "".join(f"[{by_title[t] + 1}]" for t in gold_titles)
            cases.append({"kind": "qa", "expected": True, "draft": _cite(claim, marks), "p": passages})
            bad = "".join(f"[{i + 1}]" for i in top_distractors(claim, len(gold_titles)))
            cases.append({"kind": "distractor_qa", "expected": False, "draft": _cite(claim, bad), "p": passages})
    return cases


def _score(rows: list[tuple[str, bool, bool]]) -> dict[str, Any]:
    rows = [r for r in rows if r[0] not in DIAGNOSTIC]
    tp = sum(1 for _, exp, got in rows if exp and got)
    fp = sum(1 for _, exp, got in rows if not exp and got)
    pos = sum(1 for _, exp, _ in rows if exp)
    neg = len(rows) - pos
    corrupt = [got for kind, _, got in rows if kind.startswith("corrupt_")]
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / pos if pos else 0.0,
            "corruption_catch_rate": sum(1 for g in corrupt if not g) / len(corrupt) if corrupt else 0.0,
            "n_positive": pos, "n_negative": neg, "n_corrupted": len(corrupt)}


def run(settings: Settings, *, quick: bool = False, progress: bool = True, use_embedder: bool = True,
        grid: tuple[float, ...] = (0.4, 0.5, 0.6, 0.7, 0.8)) -> dict[str, Any]:
    path = settings.eval_data / "hotpotqa" / "hotpotqa_train.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if quick:
        data = data[:QUICK_QUESTIONS]
    cases = build_cases(data)
    embedder = None
    if use_embedder:
        from assistant.index.embedding import Embedder

        embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)
    answer_settings = settings.answer
    chosen = float(getattr(answer_settings, "claim_min_coverage", 0.0) or 0.0)
    results: dict[float, list[tuple[str, bool, bool]]] = defaultdict(list)
    iterator: Any = cases
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cases, desc="verifier", leave=False)
    for case in iterator:
        for threshold in sorted({*grid, chosen} - {0.0}):
            v = verify_draft(case["draft"], case["p"], embedder=embedder, settings=answer_settings,
                             min_coverage=threshold)
            supported = (v.kept > 0 and not v.flagged and not v.moved  # re-cited: its own citation failed
                         and all(c.verified for c in v.citations))
            results[threshold].append((case["kind"], case["expected"], supported))
    operating = chosen or answer_settings.claim_min_coverage
    rows = results[operating]
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({k for k, _, _ in rows}):
        sub = [r for r in rows if r[0] == kind]
        by_kind[kind] = {"n": len(sub), "supported_rate": sum(1 for r in sub if r[2]) / len(sub)}
    out = {
        "questions": len(data),
        "claim_min_coverage": operating,
        "embedder": bool(embedder),
        **_score(rows),
        "by_kind": by_kind,
        "grid": [{"claim_min_coverage": t, **_score(results[t])} for t in sorted(results)],
    }
    log.info("verifier suite questions=%d cases=%d precision=%.4f recall=%.4f", len(data), len(cases),
             out["precision"], out["recall"])
    return out
