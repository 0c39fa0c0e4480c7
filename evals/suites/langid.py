"""Language identification (assistant.text.lang) on public sentences: Tatoeba (short, conversational) and NTREX
(news, long), each language with its English side, plus the same NTREX sentences cut to their first four words
(the length of a short chat message). Accuracy = the label equals the language; "unknown" counts as wrong."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.text.lang import identify_many
from evals import metrics
from evals.datasets import TATOEBA_LANGS, load_tatoeba
from evals.suites import rounded

ISO = {"pol": "pl", "ron": "ro", "ara": "ar", "arb": "ar", "vie": "vi", "urd": "ur", "eng": "en"}
NTREX_LANGS = ("pol", "ron", "arb", "urd", "vie")
QUICK_N = 200
SHORT_WORDS = 4


def _ntrex(data_dir: Path, code: str, limit: int | None) -> list[str]:
    name = "newstest2019-src.eng.txt" if code == "eng" else f"newstest2019-ref.{code}.txt"
    path = data_dir / "ntrex" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (NTREX-128, expected under the eval_data setting)")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def _accuracy(texts: list[str], want: str, candidates: tuple[str, ...], min_conf: float) -> dict[str, Any]:
    labels = identify_many(texts, candidates, min_conf)
    return {"n": len(texts), "accuracy": metrics.mean(label == want for label in labels),
            "unknown": metrics.mean(label == "" for label in labels)}


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    limit = QUICK_N if quick else None
    cands = tuple(settings.language.candidates)
    conf = settings.language.min_confidence
    start = time.perf_counter()
    result: dict[str, Any] = {"candidates": list(cands), "min_confidence": conf}
    tatoeba: dict[str, Any] = {}
    english: list[str] = []
    for lang in TATOEBA_LANGS:
        pairs = load_tatoeba(settings.eval_data, lang, limit)
        tatoeba[lang] = _accuracy([f for _, f in pairs], ISO[lang], cands, conf)
        english += [e for e, _ in pairs]
    tatoeba["eng"] = _accuracy(english, "en", cands, conf)
    ntrex: dict[str, Any] = {}
    short: dict[str, Any] = {}
    for code in (*NTREX_LANGS, "eng"):
        lines = _ntrex(settings.eval_data, code, limit)
        ntrex[code] = _accuracy(lines, ISO[code], cands, conf)
        cut = [" ".join(line.split()[:SHORT_WORDS]) for line in lines]
        short[code] = _accuracy(cut, ISO[code], cands, conf)
    result["tatoeba"] = tatoeba
    result["ntrex"] = ntrex
    result["ntrex_short"] = short
    for name in ("tatoeba", "ntrex", "ntrex_short"):
        result[f"{name}_accuracy"] = metrics.mean(v["accuracy"] for v in result[name].values())
    result["seconds"] = round(time.perf_counter() - start, 2)
    return rounded(result)
