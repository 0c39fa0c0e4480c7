"""Language of a message or passage, identified offline.

Lingua (`lingua-language-detector`, its n-gram models ship inside the wheel, nothing is downloaded) restricted to
the languages a case may hold (`LanguageSettings.candidates`): a smaller candidate set is both faster and more
accurate on short messages than all 75 languages. A text is labelled only when lingua's confidence in its best
language reaches `min_confidence`; otherwise, and for text with too few letters to judge, the label is "" (unknown),
which callers treat like an undeclared language. Labels are ISO 639-1 codes ("en", "pl", "ro", "ar", "ur", "vi").
Measured accuracy: `evals/suites/langid.py` (Tatoeba and NTREX sentences, and the same cut to short messages).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

MIN_LETTERS = 3  # fewer letters than this ("ok", "??", "7pm") carry no language
_LOCK = threading.Lock()


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


@lru_cache(maxsize=4)
def _detector(candidates: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in candidates:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError) as exc:
            raise ValueError(f"unknown language code {code!r} in the language-id candidates") from exc
    if len(languages) < 2:
        raise ValueError("language identification needs at least two candidate languages")
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def identify(text: str, candidates: Sequence[str], min_confidence: float = 0.5) -> str:
    """The ISO 639-1 code of the text's language, or "" when there is too little text or lingua is unsure."""
    return identify_many([text], candidates, min_confidence)[0]


def identify_many(texts: Sequence[str], candidates: Sequence[str], min_confidence: float = 0.5) -> list[str]:
    """`identify` for many texts at once (lingua's batch call runs on its own threads)."""
    out = [""] * len(texts)
    todo = [i for i, text in enumerate(texts) if _letters(text) >= MIN_LETTERS]
    if not todo:
        return out
    detector = _detector(tuple(sorted({c.lower() for c in candidates})))
    with _LOCK:
        values = detector.compute_language_confidence_values_in_parallel([texts[i] for i in todo])
    for i, confidences in zip(todo, values, strict=True):
        if confidences and confidences[0].value >= min_confidence:
            out[i] = confidences[0].language.iso_code_639_1.name.lower()
    return out
