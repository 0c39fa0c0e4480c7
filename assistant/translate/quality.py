"""Which languages a model translates by default: chrF measured on NTREX (evals/suites/translation.py) stored in
quality.json beside this module. A language whose dev or held-out chrF for the model is below the threshold (chosen
on the dev split, see the file's `rule`), or that was never measured for the model, is refused with the reason;
`--force` overrides."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.translate.translator import iso_code

QUALITY_FILE = Path(__file__).with_name("quality.json")


@dataclass(frozen=True)
class Quality:
    threshold: float
    rule: str
    scores: dict[str, dict[str, float]]  # model (catalog name) -> language -> the lower of dev and held-out chrF
    sample: str


@lru_cache(maxsize=4)
def load_quality(path: Path = QUALITY_FILE) -> Quality:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    scores = {str(model): {str(lang): float(v) for lang, v in langs.items()}
              for model, langs in raw.get("decision_chrf", {}).items()}
    return Quality(float(raw["threshold"]), str(raw.get("rule", "")), scores, str(raw.get("sample", "")))


def _scores_for(quality: Quality, model: str) -> dict[str, float] | None:
    name = model.lower().removesuffix(".gguf")
    for key, scores in quality.scores.items():
        if key.lower() in name:
            return scores
    return None


def refusal(language: str, model: str, quality: Quality | None = None) -> str:
    """Why `model` does not translate `language` by default ("" when it does)."""
    try:
        q = quality or load_quality()
    except (OSError, ValueError, KeyError) as exc:
        return f"no chrF measurements readable at {QUALITY_FILE} ({type(exc).__name__}); use --force"
    language = iso_code(language)
    scores = _scores_for(q, model)
    if scores is None:
        return (f"model {model} has no measured chrF (evals/suites/translation.py); measure it first or use "
                "--force")
    score = scores.get(language)
    if score is None:
        return f"{language}: no chrF measured for {model}; use --force to translate anyway"
    if score < q.threshold:
        return (f"{language}: {model} measured chrF {score:.1f} (lower of dev and held-out) on NTREX ({q.sample}), "
                f"below the threshold {q.threshold:.1f} ({q.rule}); its translations would mislead: use --force to "
                "translate anyway")
    return ""
