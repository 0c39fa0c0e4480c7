"""Composition root: builds every service from Settings once, lazily. UI, CLI and evals sit on top of this."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, load_settings
from assistant.index.store import IndexStore, check_case_id
from assistant.offline import apply_offline_env
from assistant.perms import private_dir, private_file, secure_tree
from assistant.types import Answer, Chunk, Passage, RetrievalFilters

if TYPE_CHECKING:
    from assistant.access.audit import AuditLog
    from assistant.access.auth import UserStore
    from assistant.answer.answerer import Answerer
    from assistant.index.embedding import Embedder
    from assistant.index.languages.crosslingual import Crosslingual
    from assistant.index.languages.multilingual import MultilingualIndex
    from assistant.index.retrieval import Retriever
    from assistant.ingest.pipeline import Ingestor, IngestReport
    from assistant.links.lookup import LinkLookup
    from assistant.links.store import LinkStore
    from assistant.llm import Selection
    from assistant.pii.tagger import PiiTagger

log = logging.getLogger(__name__)


class App:
    def __init__(self, settings: Settings | None = None) -> None:
        apply_offline_env()
        self.settings = settings or load_settings()
        private_dir(self.settings.index_dir)  # 0700: the index holds case text, users and the audit log
        secure_tree(self.settings.index_dir)  # files written before (or by a laxer umask) become 0600
        # `assistant serve --ingest-workers` (cli.workers): (paths, case, on_progress, actor) -> the queued ingest
        self.queued_ingest: Callable[[Sequence[Path], str, Any, str], IngestReport] | None = None

    # ---- services -------------------------------------------------------------------------------------------
    @cached_property
    def embedder(self) -> Embedder:
        from assistant.index.embedding import Embedder

        # case text is cached per case inside the index (never in the shared cache_dir): see index.embedding
        return Embedder(self.settings.embedding, case_cache_dir=self.settings.index_dir / "embeddings")

    @cached_property
    def tokenizer(self) -> Any:
        from assistant.ingest.tokenizer import load_tokenizer

        return load_tokenizer(self.settings.embedding.model_path)

    @cached_property
    def pii(self) -> PiiTagger:
        from assistant.pii.tagger import PiiTagger

        return PiiTagger(self.settings.pii)

    @cached_property
    def store(self) -> IndexStore:
        return IndexStore(self.settings.index_dir, self.settings.retrieval.catalog_cache_cases, self.settings.index)

    @cached_property
    def retriever(self) -> Retriever:
        from assistant.index.retrieval import Retriever

        return Retriever(self.store, self.embedder, self.settings.retrieval, query_terms=self._query_terms,
                         crosslingual=self.crosslingual)

    @cached_property
    def crosslingual(self) -> Crosslingual:
        """The multilingual ranking and EmbeddingGemma's re-scoring (each optional, per settings and install)."""
        from assistant.index.languages.crosslingual import build_crosslingual

        return build_crosslingual(self.store, self.multilingual, self.settings)

    @cached_property
    def ingestor(self) -> Ingestor:
        from assistant.ingest.pipeline import Ingestor

        ingestor = Ingestor(self.settings, self.store, self.embedder, self.pii, self.tokenizer)
        ingestor.on_committed = self._index_links
        ingestor.link_mentions = self._link_mentions  # a large report indexed in slices (ingest.slices.index)
        ingestor.on_mentions = lambda case, source, n: self.link_store.commit_staged(case, source, n)
        ingestor.multilingual = self.multilingual
        return ingestor

    @cached_property
    def multilingual(self) -> MultilingualIndex | None:
        """The second, multilingual vector space (None when switched off in settings)."""
        from assistant.index.languages.multilingual import E5Encoder, MultilingualIndex

        language = self.settings.language
        if not language.multilingual:
            return None
        index = MultilingualIndex(self.store, E5Encoder(), language.ml_max_chars)
        if language.rerank and language.rerank_store:  # EmbeddingGemma vectors stored at ingest (gemma_space)
            from assistant.index.languages.gemma_space import GemmaSpace
            from assistant.index.languages.rerank import GemmaScorer
            from assistant.llm.embedding_model import installed_dir

            scorer = GemmaScorer(installed_dir(self.settings.cache_dir), self.settings.embedding.torch_threads)
            index.gemma = GemmaSpace(self.store, scorer)
        return index

    def _index_links(self, case: str, source: str, chunks: list[Chunk]) -> None:
        from assistant.links.indexer import index_chunks

        index_chunks(self.link_store, case, source, chunks, self.settings.links.default_region)

    def _link_mentions(self, case: str, source: str, chunks: list[Chunk], fresh: bool) -> None:
        from assistant.links.indexer import mentions_of

        self.link_store.stage(case, source, mentions_of(chunks, self.settings.links.default_region), fresh)

    @cached_property
    def link_store(self) -> LinkStore:
        from assistant.links.store import LinkStore

        store = LinkStore(self.settings.index_dir / "links.sqlite")
        private_file(store.path)
        return store

    @cached_property
    def links(self) -> LinkLookup:
        from assistant.links.lookup import LinkLookup

        return LinkLookup(self.link_store, self.users, self.audit, self.settings.links)

    @cached_property
    def backend(self) -> Selection:
        """Which model answers (None: extractive) and why."""
        from assistant.llm import select_backend

        return select_backend(self.settings)

    @cached_property
    def answerer(self) -> Answerer:
        from assistant.answer.answerer import Answerer

        selection = self.backend
        return Answerer(self.settings, selection.backend, self.embedder, selection_note=selection.note)

    @cached_property
    def audit(self) -> AuditLog:
        from assistant.access.audit import AuditLog

        log_ = AuditLog(self.settings.index_dir / "audit.sqlite", self.settings.access.audit_keys_dir)
        if not log_.missing:  # a deleted log stays missing (verify reports it), never recreated here
            private_file(log_.path)
        return log_

    @cached_property
    def users(self) -> UserStore:
        from assistant.access.auth import UserStore

        users = UserStore(self.settings.index_dir / "users.sqlite", rounds=self.settings.access.bcrypt_rounds)
        private_file(users.path)
        return users

    def _query_terms(self, question: str) -> list[str]:
        return self.pii.query_terms(question)  # a method, not a bound reference, so the tagger stays lazy

    # ---- operations -----------------------------------------------------------------------------------------
    def list_cases(self) -> list[str]:
        return self.store.list_cases()

    def list_sources(self, case: str) -> list[str]:
        """The source files of a case (empty when it has no index)."""
        check_case_id(case)
        return sorted(s for s, n, _ in self.store.sources(case) if n > 0) if self.store.has_case(case) else []

    def ingest(self, paths: Sequence[Path], case: str, *, progress: bool = True,
               on_progress: Callable[[int, int, str], None] | None = None, wait: float = 0.0,
               on_wait: Callable[[str], None] | None = None, actor: str = "") -> IngestReport:
        """A protected.json at an ingest root protects its persons first, audited as `actor` (default: OS user)."""
        from assistant.access.accounts import cli_identity

        if self.queued_ingest is not None:  # on the ingest workers, with their progress
            return self.queued_ingest(paths, case, on_progress, actor)
        from assistant.pii.protected import protect_case_files

        applied = protect_case_files(self.settings.index_dir, self.audit, actor or cli_identity(), case, paths)
        report = self.ingestor.ingest(paths, case, progress=progress, on_progress=on_progress, wait=wait,
                                      on_wait=on_wait)
        report.applied(applied)
        secure_tree(self.settings.index_dir)  # what Chroma and SQLite created under a process umask
        log.info("ingest case=%s ingested=%d unchanged=%d failed=%d chunks=%d", case, len(report.ingested),
                 len(report.unchanged), len(report.failed), report.chunks)
        return report

    def delete_case(self, case: str, *, user: str = "cli") -> bool:
        """Remove a case and everything derived from it: vectors, text, keyword index, its embedding cache and its
        cross-case links. Recorded in the audit log. True when the case existed."""
        with self.store.manifest.case_lock(check_case_id(case)):  # never under a running ingest
            existed = self.store.delete_case(case)
            if self.embedder.case_caches is not None:
                self.embedder.case_caches.purge(case)
            self.link_store.drop_case(case)
            self.ingestor.translations.delete_case(case)
            self.ingestor.dedup.delete_case(case)
        self.audit.append("ingest", user, case, {"action": "delete_case", "existed": existed})
        return existed

    def purge_orphan_caches(self) -> list[str]:
        """Embedding caches of cases no longer in the index (deleted by an older version or by hand) are removed."""
        caches = self.embedder.case_caches
        return caches.purge_orphans(self.store.list_cases()) if caches is not None else []

    def retrieve(self, case: str, question: str, *, filters: RetrievalFilters | None = None,
                 top_k: int | None = None) -> list[Passage]:
        return self.retriever.retrieve(case, question, filters=filters, top_k=top_k)

    def _links_chat(self, case: str, question: str, user: str, extra: Mapping[str, Any], purpose: str) -> Answer | None:
        from assistant.links.chat import answer

        routed = answer(self, case, question, user)
        if routed is not None:
            self.audit.append_answer(user, routed, extra, purpose=purpose)
        return routed

    def ask(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
            purpose: str = "", audit_extra: Mapping[str, Any] | None = None) -> Answer:
        """`purpose`: the asker's stated reason, recorded with the question (UK DPA 2018 s.62)."""
        return next(item for item in self.ask_stream(case, question, user=user, filters=filters, purpose=purpose,
                                                     audit_extra=audit_extra, stream=False)
                    if isinstance(item, Answer))

    def ask_stream(self, case: str, question: str, *, user: str = "cli", filters: RetrievalFilters | None = None,
                   purpose: str = "", audit_extra: Mapping[str, Any] | None = None,
                   stream: bool = True) -> Iterator[str | Answer]:
        """Text deltas, then the final Answer; see `_finish`. A person's timeline, a cross-case or chronology
        question, a person digest and a question of several parts each take their own path."""
        from assistant.conversation import routes

        extra = _audit_extra(filters, audit_extra)
        routed = routes.timeline_route(self.store, case, question, filters)
        if routed is not None:
            yield self._finish(user, routed, extra, purpose)
            return
        routed = self._links_chat(case, question, user, extra, purpose)
        if routed is not None:
            yield routed
            return
        routed = routes.digest_route(self.store, case, question, filters, backend=self.backend.backend,
                                     embedder=self.embedder, settings=self.settings) or routes.parts_route(
            case, question, lambda part: self.answerer.answer(part, case, self.retrieve(case, part, filters=filters)))
        if routed is not None:
            yield self._finish(user, routed, extra, purpose)
            return
        passages = self.retrieve(case, question, filters=filters)
        if not stream:
            answer = self.crosslingual.annotate(self.answerer.answer(question, case, passages), passages)
            yield self._finish(user, answer, extra, purpose)
            return
        for item in self.answerer.stream(question, case, passages):
            if isinstance(item, Answer):
                item = self._finish(user, self.crosslingual.annotate(item, passages), extra, purpose)
            yield item

    def _finish(self, user: str, answer: Answer, extra: Mapping[str, Any], purpose: str = "") -> Answer:
        """Message citations narrowed to one message, then audited with the filters used and the extra keys (e.g.
        the question as typed when a follow-up was rewritten)."""
        from assistant.answer.message_cite import pin_messages

        answer = pin_messages(answer)
        self.audit.append_answer(user, answer, extra, purpose=purpose)
        return answer

    def get_chunk(self, case: str, chunk_id: str) -> Passage | None:
        from assistant.index.retrieval import stored_passage

        chunk = self.store.get_chunk(case, chunk_id) if self.store.has_case(check_case_id(case)) else None
        return stored_passage(chunk, case) if chunk is not None and chunk.meta.get("case") == case else None

    # ---- display-time masking -------------------------------------------------------------------------------
    def mask_answer(self, answer: Answer, role: str) -> Answer:
        from assistant.pii.display import mask_answer, protected_set

        return mask_answer(answer, role, self.settings.pii, protected_set(self.settings.index_dir, answer.case))

    def mask_passage(self, passage: Passage, role: str) -> Passage:
        from assistant.pii.display import mask_passage, protected_set

        protected = protected_set(self.settings.index_dir, passage.case)
        return mask_passage(passage, role, self.settings.pii, protected=protected)


def _audit_extra(filters: RetrievalFilters | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    used = {"filters": dataclasses.asdict(filters)} if filters is not None and not filters.is_empty() else {}
    return {**used, **(extra or {})}
