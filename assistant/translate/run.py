"""`assistant translate`: machine-translate a case's untranslated messages, store each beside its original, then
re-chunk and re-embed every source that gained a translation so it is searched and answered through it (marked
machine). Resumable: a message already in the store is not translated again, and a re-index attaches everything
stored. Languages below the measured chrF threshold (quality.py) are refused unless forced. Logs hold counts and ids,
never message text."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.index.store import IndexStore, check_case_id
from assistant.ingest.pipeline import Ingestor, IngestReport
from assistant.ingest.translations import MachineTranslation, TranslationStore, body_hash, document_from_chunks
from assistant.llm.base import Backend
from assistant.text.messages import MessageRecord, message_records
from assistant.translate.quality import refusal
from assistant.translate.translator import TranslationRefused, translate_text

log = logging.getLogger(__name__)


@dataclass
class TranslateReport:
    case: str
    model: str
    translated: int = 0
    pending: int = 0  # untranslated messages found (in the languages asked for), before --limit
    refused: dict[str, str] = field(default_factory=dict)  # language -> why it is not translated by default
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (source, message id, reason)
    reindexed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "model": self.model, "translated": self.translated, "pending": self.pending,
                "refused_languages": self.refused, "reindexed": self.reindexed,
                "failed": [{"source": s, "message_id": m, "reason": r} for s, m, r in self.failed]}


@dataclass(frozen=True)
class _Todo:
    source: str
    record: MessageRecord


def scan(store: IndexStore, tstore: TranslationStore, case: str,
          lang: str) -> tuple[list[_Todo], dict[str, list[dict[str, Any]]]]:
    """Untranslated messages with no stored translation (each once), and every source's chunk metadata."""
    metas: dict[str, list[dict[str, Any]]] = {}
    todo: dict[tuple[str, str, str], _Todo] = {}
    for chunk in store.iter_chunks(case):
        source = str(chunk.meta.get("source", ""))
        metas.setdefault(source, []).append(chunk.meta)
        for r in message_records(chunk.meta):
            if r.untranslated and r.body.strip() and (not lang or r.lang == lang):
                todo.setdefault((source, r.message_id, body_hash(r.body)), _Todo(source, r))
    done = {src: tstore.for_source(case, src) for src in {t.source for t in todo.values()}}
    left = [t for key, t in todo.items() if (key[1], key[2]) not in done[key[0]]]
    return left, metas


def translate_case(store: IndexStore, ingestor: Ingestor, tstore: TranslationStore, backend: Backend, case: str, *,
                   lang: str = "", limit: int = 0, force: bool = False,
                   on_progress: Callable[[int, int], None] | None = None) -> TranslateReport:
    check_case_id(case)
    report = TranslateReport(case, backend.model)
    backend.check()
    todo, metas = scan(store, tstore, case, lang.lower())
    report.pending = len(todo)
    for language in sorted({t.record.lang for t in todo}):
        why = "" if force else refusal(language, backend.model)
        if why:
            report.refused[language] = why
    todo = [t for t in todo if t.record.lang not in report.refused]
    if limit > 0:
        todo = todo[:limit]
    touched: set[str] = set()
    for n, t in enumerate(todo, start=1):
        try:
            out = translate_text(backend, t.record.body, t.record.lang)
        except TranslationRefused as exc:
            report.failed.append((t.source, t.record.message_id, str(exc)))
        else:
            tstore.put(MachineTranslation(case, t.source, t.record.message_id, body_hash(t.record.body),
                                          t.record.lang, out.text, out.model, out.prompt_version, time.time()))
            report.translated += 1
            touched.add(t.source)
        if on_progress is not None:
            on_progress(n, len(todo))
    log.info("translate case=%s model=%s translated=%d failed=%d refused_langs=%d", case, backend.model,
             report.translated, len(report.failed), len(report.refused))
    for source in sorted(touched):
        if reindex_source(store, ingestor, case, source, metas[source]):
            report.reindexed.append(source)
    if report.reindexed:
        store.finalize(case)
    return report


def reindex_source(store: IndexStore, ingestor: Ingestor, case: str, source: str,
                   metas: list[dict[str, Any]]) -> bool:
    """Re-chunk and re-embed one message source from its stored records with its stored translations attached
    (the ingestor's `translations` hook). False when the source cannot be rebuilt from its index entries."""
    with store.manifest.case_lock(case):
        state = store.source_state(case, source)
        if state is None:
            return False
        doc = document_from_chunks(source, state.sha256, metas)
        if doc is None:
            log.warning("translate reindex_skipped case=%s reason=not_rebuildable", case)
            return False
        ingestor.index_document(doc, case, state.origin, IngestReport(case), state.sha256, time.perf_counter())
    return True
