"""Search across languages, as the retriever sees it: one more ranking (the question against the non-English
originals that have no translation, `multilingual`) and the re-scoring of the fused head with EmbeddingGemma
(`rerank`) when the head holds such an original. Either part may be absent; the retriever then does without it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from assistant.config import LanguageSettings, Settings
from assistant.index.languages.gemma_space import rescoring_texts
from assistant.index.languages.multilingual import MultilingualIndex
from assistant.index.languages.rerank import GemmaScorer, rerank_head
from assistant.index.store import IndexStore, StoredChunk
from assistant.text.messages import message_records
from assistant.types import Answer, Passage

log = logging.getLogger(__name__)


def has_untranslated(chunk: StoredChunk) -> bool:
    """The chunk holds an original without a translation (indexes built before `has_untranslated` was stored
    answer from their messages' declared languages)."""
    return bool(chunk.meta.get("has_untranslated")) or any(r.untranslated for r in message_records(chunk.meta))


class Crosslingual:
    def __init__(self, store: IndexStore, multilingual: MultilingualIndex | None, scorer: GemmaScorer | None,
                 settings: LanguageSettings) -> None:
        self.store = store
        self.multilingual = multilingual
        self.scorer = scorer
        self.settings = settings
        self.space = multilingual.gemma if multilingual is not None else None  # vectors stored at ingest

    @property
    def weight(self) -> float:
        rescoring = self.scorer is not None and self.settings.rerank and not self.scorer.status
        return self.settings.ml_weight if rescoring else self.settings.ml_weight_alone

    @property
    def note(self) -> str:
        """Why foreign candidates are ranked without the re-scorer ("" when it is in use or switched off)."""
        if self.scorer is None or not self.settings.rerank:
            return ""
        why = self.scorer.status
        return f"{why}; messages in other languages are ranked by multilingual-e5-small only" if why else ""

    def annotate(self, answer: Answer, passages: Sequence[Passage]) -> Answer:
        """The answer with `note` added when passages in other languages were ranked without the re-scorer."""
        note = self.note
        if not note or not any(p.meta.get("has_untranslated") for p in passages):
            return answer
        return dataclasses.replace(answer, notes=(*answer.notes, note))

    def ranking(self, case: str, question: str, k: int) -> list[str]:
        if self.multilingual is None:
            return []
        hits = self.multilingual.search(case, question, k, translated=self.settings.ml_translated)
        return [cid for cid, cos in hits if cos >= self.settings.ml_min_cosine]

    def rescore(self, case: str, question: str, fused: list[tuple[str, float]], rrf_k: int,
                pool: list[str] | None = None, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """`fused` with its head (and the multilingual ranking's best `rerank_pool`, `pool`) re-ordered by
        EmbeddingGemma when the head holds a non-English original without a translation (translated ones are ranked
        through their translation; re-scoring heads that held only those moved English prose holding the answer out
        of the top 5: tests/test_pipeline.py demo evidence@5 33/38). Only those originals are moved by the
        re-scorer: English and translated candidates keep their fused order among themselves (EmbeddingGemma's own
        order of English passages cost English questions evidence: withheld demo, English evidence@5 29/30 without
        re-scoring, 26/30 with it, 29/30 with this rule, translated gold ranks unchanged)."""
        scorer = self.scorer
        if scorer is None or not self.settings.rerank or scorer.status or self.settings.rerank_n < 2:
            return fused
        head = [cid for cid, _ in fused[: self.settings.rerank_n]]
        pool = [*(pool or [])[: self.settings.rerank_pool], *self._gemma_pool(case, question)]
        extra = list(dict.fromkeys(cid for cid in pool  # foreign, not in head, and within the question's filters
                                   if cid not in head and (allowed is None or cid in allowed)))
        if extra:  # joined to the head, so the re-scorer sees every candidate the multilingual ranking found
            score = dict(fused)
            fused = [*fused[: len(head)], *((cid, score.get(cid, 0.0)) for cid in extra),
                     *(item for item in fused[len(head):] if item[0] not in set(extra))]
            head += extra
        chunks = self.store.get_chunks(case, head)
        if len(chunks) != len(head) or not any(map(has_untranslated, chunks.values())):
            return fused
        groups = [rescoring_texts(chunks[cid]) for cid in head]
        flat = [t for group in groups for t in group]
        known = self.space.vectors(case, head) if self.space is not None else {}
        scores = scorer.scores(question, flat, known)
        if scores is None:
            return fused
        best: list[float] = []
        at = 0
        for group in groups:
            best.append(float(scores[at : at + len(group)].max()))
            at += len(group)
        log.info("rescore case=%s candidates=%d texts=%d stored=%d", case, len(head), len(flat), len(known))
        return rerank_head(fused, best, weight=self.settings.rerank_weight, rrf_k=rrf_k,
                           movable=[has_untranslated(chunks[cid]) for cid in head])

    def _gemma_pool(self, case: str, question: str) -> list[str]:
        """The stored EmbeddingGemma vectors' own best `rerank_search` chunks at cosine `rerank_search_min` or more
        (none without stored vectors), so unrelated originals do not join every question's re-scored head."""
        if self.space is None or self.scorer is None or self.settings.rerank_search < 1 or not self.space.count(case):
            return []  # an English-only case never pays for the question's EmbeddingGemma vector here
        qvec = self.scorer.query_vector(question)
        hits = [] if qvec is None else self.space.search(case, qvec, self.settings.rerank_search)
        return [cid for cid, cos in hits if cos >= self.settings.rerank_search_min]


def build_crosslingual(store: IndexStore, multilingual: MultilingualIndex | None, settings: Settings) -> Crosslingual:
    """The multilingual ranking and EmbeddingGemma's re-scoring, each optional per settings and install."""
    from assistant.llm.embedding_model import installed_dir

    language = settings.language
    scorer = multilingual.gemma.scorer if multilingual is not None and multilingual.gemma is not None else None
    if language.rerank and scorer is None:
        scorer = GemmaScorer(installed_dir(settings.cache_dir), settings.embedding.torch_threads)
    return Crosslingual(store, multilingual, scorer, language)
