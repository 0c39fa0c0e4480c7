"""Admin handlers: the ingest report is a readable table (one row per file, with the reason), and a case that does
not exist cannot be assigned (nothing is half done)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.access.auth import UserError
from assistant.access.demo import seed_demo_users
from assistant.access.session import Session
from assistant.config import load_settings
from assistant.ingest.pipeline import IngestReport
from assistant.ui import admin as ui_admin
from assistant.ui.render import md_text
from tests.test_session import FakeApp


def test_report_is_a_table_with_a_row_per_file() -> None:
    report = IngestReport(case="otter", ingested=["statements/a.txt"], unchanged=["b.pdf"],
                          failed=[("c.xyz", "unsupported file type .xyz | refused")], not_evidence=["README.md"],
                          notes=[("mail.eml", "1 attachment(s) not ingested")], chunks=3)
    md = ui_admin._report_markdown(report)
    lines = md.splitlines()
    assert lines[0] == "| File | Result |" and lines[1] == "|---|---|"
    assert f"| {md_text('statements/a.txt')} | indexed |" in lines  # file names are evidence: shown literally
    refused = f"| {md_text('c.xyz')} | **not ingested**: {md_text('unsupported file type .xyz | refused')} |"
    assert refused in lines
    assert any(line.startswith(f"| {md_text('README.md')} | not evidence") for line in lines)
    assert md.endswith("1 file(s) indexed into 3 passage(s), 1 unchanged, 1 not ingested, 1 not evidence, "
                       "0 protected-persons file(s) applied.")
    assert "{" not in md  # never a raw dict


def test_unknown_case_is_refused_before_anything_is_done(tmp_path: Path) -> None:
    app = FakeApp(load_settings(index_dir=tmp_path, demo_index_dir=tmp_path))
    seed_demo_users(app)
    admin = Session.for_username(app, "admin")
    with pytest.raises(UserError, match="case 'otterr' does not exist"):
        ui_admin.add_user(admin, "reviewer8", "swift-review-8", "reviewer", "otterr")
    assert app.users.get("reviewer8") is None
    with pytest.raises(UserError, match="does not exist"):
        ui_admin.change_assignment(admin, "reviewer1", "nowhere", "assign")
    assert "heron" in ui_admin.change_assignment(admin, "reviewer1", "heron", "assign")
