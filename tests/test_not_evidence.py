"""Files about the case folder (its README, notes about the export) are listed at ingest as not evidence, never
indexed and never cited; the rule is on the file's role (top level of the ingested folder) and a setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.app import App
from assistant.config import load_settings
from assistant.ingest.pipeline import is_not_evidence

DEFAULT = load_settings().ingest.not_evidence


def test_rule_is_on_the_top_level_only() -> None:
    assert is_not_evidence("README.md", DEFAULT) and is_not_evidence("readme.txt", DEFAULT)
    assert is_not_evidence("phone_export_notes.txt", DEFAULT) and is_not_evidence("Notes on the export.md", DEFAULT)
    assert not is_not_evidence("notes.txt", DEFAULT)  # an officer's notes are evidence
    assert not is_not_evidence("exhibits/notes_app_extract_HE3.txt", DEFAULT)  # a phone's notes app: evidence
    assert not is_not_evidence("statements/README.md", DEFAULT)
    assert not is_not_evidence("witness_statement.txt", DEFAULT)
    assert not is_not_evidence("README.md", [])  # the setting can turn the rule off


def test_demo_readme_is_never_indexed_or_cited(demo_app: Any) -> None:
    sources = demo_app.list_sources("kestrel")
    assert "README.md" not in sources and "exhibits/notes_app_extract_HE3.txt" in sources
    answer = demo_app.ask("kestrel", "Which folder holds the two MG11 witness statements of this fictional case?")
    assert all(p.source != "README.md" for p in answer.retrieved)


def test_ingest_reports_it_and_a_setting_overrides(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    (folder / "statements").mkdir(parents=True)
    (folder / "README.md").write_text("About this export: made by the analyst.", encoding="utf-8")
    (folder / "statements" / "s1.txt").write_text("I saw a blue van on Mill Lane.", encoding="utf-8")
    settings = load_settings(index_dir=tmp_path / "index")
    report = App(settings).ingest([folder], "otter", progress=False)
    assert report.not_evidence == ["README.md"] and report.ingested == ["statements/s1.txt"]
    assert report.to_json()["not_evidence"] == ["README.md"]
    settings = load_settings(index_dir=tmp_path / "index2")
    settings.ingest.not_evidence = []
    assert "README.md" in App(settings).ingest([folder], "otter", progress=False).ingested
