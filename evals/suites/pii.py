"""PII tagging quality: our PiiTagger vs Presidio's defaults, side by side, on two sets.

(a) Presidio's synthetic set (1,500 texts, labels mapped to ours, `quick` = first 500 texts);
(b) our UK policing gold set `evals/cases/uk_pii_gold.jsonl` (statements, intelligence reports, informal messages).

Matching is by partial overlap: a predicted span matches a gold span when they overlap and (for typed metrics) their
types agree after the label maps below. Precision counts predicted spans that match some gold span, recall counts
gold spans matched by some prediction; F2 weights recall (a missed identifier costs more than an extra mask).
"Defaults" is an AnalyzerEngine with Presidio's default registry and the sm model, raw results at the same score
threshold; "ours" is `PiiTagger` with the current settings.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assistant.config import Settings

log = logging.getLogger(__name__)

Span = tuple[str, int, int]  # (type, start, end)

GOLD_PATH = Path(__file__).resolve().parent.parent / "cases" / "uk_pii_gold.jsonl"
SYNTH_REL = "pii/presidio_synth_dataset_v2.json"
QUICK_SYNTH = 500

# Synthetic-set gold labels -> the label space both systems are scored in. TITLE and AGE: no system predicts them.
SYNTH_GOLD_MAP = {"GPE": "LOCATION", "STREET_ADDRESS": "ADDRESS", "DOMAIN_NAME": "URL", "ZIP_CODE": "POSTCODE",
                  "TITLE": "", "AGE": ""}
# Predicted labels -> the same space.
PRED_MAP = {"UK_ADDRESS": "ADDRESS", "UK_POSTCODE": "POSTCODE"}
# UK gold labels only identifiers and people: predictions of these types are left out of its typed metrics.
UK_UNLABELLED = frozenset({"DATE_TIME", "LOCATION", "ORGANIZATION", "NRP", "URL"})
UK_NON_IDENTIFIERS = frozenset({"PERSON", "UK_ADDRESS"})


# ---------------------------------------------------------------- metrics (pure)

def overlaps(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    if precision <= 0.0 and recall <= 0.0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def match_counts(gold: Sequence[Span], pred: Sequence[Span], *, typed: bool = True) -> dict[str, list[int]]:
    """Per type: [gold matched, gold total, pred matched, pred total]. Untyped: all under the type '*'."""
    counts: dict[str, list[int]] = {}

    def row(t: str) -> list[int]:
        return counts.setdefault(t if typed else "*", [0, 0, 0, 0])

    for g in gold:
        r = row(g[0])
        r[1] += 1
        r[0] += any(overlaps(g, p) and (not typed or p[0] == g[0]) for p in pred)
    for p in pred:
        r = row(p[0])
        r[3] += 1
        r[2] += any(overlaps(p, g) and (not typed or p[0] == g[0]) for g in gold)
    return counts


def add_counts(total: dict[str, list[int]], part: dict[str, list[int]]) -> None:
    for t, r in part.items():
        acc = total.setdefault(t, [0, 0, 0, 0])
        for i in range(4):
            acc[i] += r[i]


def prf(row: Sequence[int]) -> dict[str, float]:
    g_hit, g_n, p_hit, p_n = row
    precision = p_hit / p_n if p_n else 0.0
    recall = g_hit / g_n if g_n else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f2": round(f_beta(precision, recall), 4), "n_gold": g_n, "n_pred": p_n}


def report(typed: dict[str, list[int]], untyped: dict[str, list[int]]) -> dict[str, Any]:
    out: dict[str, Any] = {t: prf(r) for t, r in sorted(typed.items())}
    total = [sum(r[i] for r in typed.values()) for i in range(4)]
    out["overall"] = prf(total)
    out["untyped"] = prf(untyped.get("*", [0, 0, 0, 0]))
    return out


def score_set(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict[str, Any]:
    typed: dict[str, list[int]] = {}
    untyped: dict[str, list[int]] = {}
    for g, p in zip(gold, pred, strict=True):
        add_counts(typed, match_counts(g, p))
        add_counts(untyped, match_counts(g, p, typed=False))
    return report(typed, untyped)


def wrong_type_rate(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]],
                    types: Iterable[str]) -> float:
    """Of the predictions overlapping a gold span of `types`, the share whose type differs from it."""
    wanted = set(types)
    n = wrong = 0
    for gs, ps in zip(gold, pred, strict=True):
        for p in ps:
            hits = [g for g in gs if g[0] in wanted and overlaps(p, g)]
            if hits:
                n += 1
                wrong += all(g[0] != p[0] for g in hits)
    return round(wrong / n, 4) if n else 0.0


def typed_recall(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], types: Iterable[str]) -> float:
    wanted = set(types)
    n = hit = 0
    for gs, ps in zip(gold, pred, strict=True):
        for g in gs:
            if g[0] in wanted:
                n += 1
                hit += any(p[0] == g[0] and overlaps(p, g) for p in ps)
    return round(hit / n, 4) if n else 0.0


# ---------------------------------------------------------------- data

def load_synth(path: Path, limit: int | None = None) -> tuple[list[str], list[list[Span]], list[list[Span]]]:
    """Texts, gold spans in the scored label space (typed) and all gold spans (untyped)."""
    rows = json.loads(path.read_text(encoding="utf-8"))[:limit]
    texts, typed, raw = [], [], []
    for row in rows:
        texts.append(row["full_text"])
        spans = [(s["entity_type"], s["start_position"], s["end_position"]) for s in row["spans"]]
        raw.append(spans)
        typed.append([(SYNTH_GOLD_MAP.get(t, t), s, e) for t, s, e in spans if SYNTH_GOLD_MAP.get(t, t)])
    return texts, typed, raw


def load_uk_gold(path: Path = GOLD_PATH, split: str = "") -> tuple[list[str], list[list[Span]]]:
    """Texts and spans; `split` = 'dev' (written while tuning) or 'heldout' (written after, never tuned on)."""
    texts, spans = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if split and row.get("split", "dev") != split:
                continue
            texts.append(row["text"])
            spans.append([(s["type"], s["start"], s["end"]) for s in row["spans"]])
    return texts, spans


# ---------------------------------------------------------------- systems

def defaults_analyzer() -> Any:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from assistant.pii.tagger import SPACY_PACKAGE

    nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
        {"lang_code": "en", "model_name": SPACY_PACKAGE}]}).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def run_defaults(texts: list[str], min_score: float) -> list[list[Span]]:
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=defaults_analyzer())
    results = batch.analyze_iterator(texts, language="en", batch_size=32, score_threshold=min_score)
    return [[(r.entity_type, r.start, r.end) for r in rs] for rs in results]


def run_ours(tagger: Any, texts: list[str], *, progress: bool) -> tuple[list[list[Span]], float]:
    """Spans per text and the elapsed seconds of `tag_many` alone."""
    from evals.suites import progress_iter

    out: list[list[Span]] = []
    elapsed = 0.0
    step = 100
    for i in progress_iter(range(0, len(texts), step), desc="pii", total=-(-len(texts) // step), enabled=progress):
        t0 = time.perf_counter()
        ents = tagger.tag_many(texts[i:i + step])
        elapsed += time.perf_counter() - t0
        out += [[(e.type, e.start, e.end) for e in es] for es in ents]
    return out, elapsed


def mapped(pred: list[list[Span]], drop: frozenset[str] = frozenset()) -> list[list[Span]]:
    return [[(PRED_MAP.get(t, t), s, e) for t, s, e in ps if t not in drop] for ps in pred]


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    from assistant.pii.tagger import PiiTagger

    min_score = settings.pii.min_score
    tagger = PiiTagger(settings.pii)
    texts, synth_typed, synth_raw = load_synth(settings.eval_data / SYNTH_REL, QUICK_SYNTH if quick else None)
    ours_synth, elapsed = run_ours(tagger, texts, progress=progress)
    defaults_synth = run_defaults(texts, min_score)

    def synth_scores(pred: list[list[Span]]) -> dict[str, Any]:
        res = score_set(synth_typed, mapped(pred))
        res["untyped"] = score_set(synth_raw, pred)["untyped"]
        return res

    uk_texts, uk_gold = load_uk_gold()
    ours_uk, _ = run_ours(tagger, uk_texts, progress=False)
    defaults_uk = run_defaults(uk_texts, min_score)
    id_types = {t for spans in uk_gold for t, _, _ in spans} - UK_NON_IDENTIFIERS

    def uk_scores(pred: list[list[Span]]) -> dict[str, Any]:
        res = score_set(uk_gold, [[p for p in ps if p[0] not in UK_UNLABELLED] for ps in pred])
        res["identifier_typed_recall"] = typed_recall(uk_gold, pred, id_types)
        res["person_recall"] = typed_recall(uk_gold, pred, {"PERSON"})
        res["wrong_type_rate"] = wrong_type_rate(uk_gold, pred, id_types)
        return res

    uk = {"ours": uk_scores(ours_uk), "defaults": uk_scores(defaults_uk)}
    held_texts, held_gold = load_uk_gold(split="heldout")
    ours_held, _ = run_ours(tagger, held_texts, progress=False)
    uk["ours_heldout"] = {"n_texts": len(held_texts), "n_spans": sum(len(g) for g in held_gold),
                          "identifier_typed_recall": typed_recall(held_gold, ours_held, id_types),
                          "person_recall": typed_recall(held_gold, ours_held, {"PERSON"}),
                          "wrong_type_rate": wrong_type_rate(held_gold, ours_held, id_types)}
    chars = sum(len(t) for t in texts)
    result: dict[str, Any] = {
        "suite": "pii",
        "spacy_model": settings.pii.spacy_model,
        "min_score": min_score,
        "n_texts": {"synth": len(texts), "uk_gold": len(uk_texts)},
        "n_spans": {"synth": sum(len(s) for s in synth_raw), "uk_gold": sum(len(s) for s in uk_gold)},
        "synth": {"ours": synth_scores(ours_synth), "defaults": synth_scores(defaults_synth)},
        "uk_gold": {**uk, "identifier_typed_recall": uk["ours"]["identifier_typed_recall"],
                    "person_recall": uk["ours"]["person_recall"], "wrong_type_rate": uk["ours"]["wrong_type_rate"]},
        "throughput_chars_per_s": round(chars / elapsed, 1) if elapsed else 0.0,
        "throughput_chars": chars,
    }
    log.info("pii_eval texts=%d uk_texts=%d f2_ours=%s f2_defaults=%s", len(texts), len(uk_texts),
             result["synth"]["ours"]["overall"]["f2"], result["synth"]["defaults"]["overall"]["f2"])
    return result
