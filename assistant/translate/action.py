"""One translation run for a person, the same for `assistant translate` and the Admin tab's action: the case and
the configured model backend checked, `translate_case`, and one audit record (who, how, which languages, the
report's counts and ids, never message text). `pending` tells, before anything is translated, how many untranslated
messages each language holds and why a language would not be translated by default."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from assistant.errors import AssistantError
from assistant.index.store import IndexStore
from assistant.ingest.pipeline import Ingestor
from assistant.translate.quality import refusal
from assistant.translate.run import TranslateReport, scan, translate_case


class App(Protocol):
    """What a translation run needs of the application (assistant.app.App)."""

    @property
    def store(self) -> IndexStore: ...

    @property
    def ingestor(self) -> Ingestor: ...

    @property
    def backend(self) -> Any: ...  # llm.Selection: `.backend` is None for the extractive backend

    @property
    def audit(self) -> Any: ...  # access.audit.AuditLog


def _backend(app: App) -> Any:
    backend = app.backend.backend
    if backend is None:
        raise AssistantError("no model backend to translate with (the extractive backend cannot translate): set "
                             "ASSISTANT_LLM__BACKEND to ollama, openai or llamacpp")
    return backend


def _check_case(app: App, case: str) -> str:
    case = (case or "").strip()
    if not app.store.has_case(case):
        raise AssistantError(f"case {case!r} not found: ingest it first")
    return case


def pending(app: App, case: str, lang: str = "") -> tuple[str, dict[str, tuple[int, str]]]:
    """(model, language -> (untranslated messages not yet translated, why it is refused by default or ""))."""
    case = _check_case(app, case)
    backend = _backend(app)
    todo, _ = scan(app.store, app.ingestor.translations, case, lang.strip().lower())
    counts = Counter(t.record.lang for t in todo)
    return backend.model, {language: (n, refusal(language, backend.model)) for language, n in sorted(counts.items())}


def run_translation(app: App, case: str, actor: str, *, via: str, lang: str = "", limit: int = 0,
                    force: bool = False, on_progress: Callable[[int, int], None] | None = None) -> TranslateReport:
    """Translate the case's untranslated messages (languages below the chrF threshold only when `force`), audited as
    `actor` (`via`: "cli" or "ui")."""
    case = _check_case(app, case)
    report = translate_case(app.store, app.ingestor, app.ingestor.translations, _backend(app), case,
                            lang=lang.strip().lower(), limit=limit, force=force, on_progress=on_progress)
    app.audit.append("ingest", actor, case, {"action": "translate", "via": via, "force": force, "lang": lang,
                                             "report": report.to_json()})
    return report
