"""`assistant protect` and the `protected.json` case file of an ingested folder, through the real CLI and App."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.cli import main as cli
from assistant.ui.render import md_text


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "indexes"))


def test_case_file_protects_at_ingest_and_ask_as_reviewer_masks(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "statement.txt").write_text(
        "Officer Dana Reed saw Ola Mazur, born 03/02/2009, get into a grey van driven by Tomas Varga. Ola's number "
        "is 07700 900777. Varga uses 07700 900123.\n", encoding="utf-8")
    (folder / "protected.json").write_text(json.dumps(
        [{"names": ["Ola Mazur"], "phones": ["+44 7700 900777"], "dobs": ["2009-02-03"]}]), encoding="utf-8")
    assert cli.main(["ingest", str(folder), "--case", "c1", "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "protected.json" not in json.dumps(report.get("ingested", []))  # the case file is not evidence
    stored = tmp_path / "indexes" / "protected" / "c1.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert cli.main(["ask", "--case", "c1", "--role", "reviewer", "--json", "--local",
                     "Who got into the grey van?"]) == 0
    shown = capsys.readouterr().out
    assert "Mazur" not in shown and "900777" not in shown and "03/02/2009" not in shown and "Ola" not in shown
    assert "Varga" in shown and "<PROTECTED_1_NAME>" in shown
    assert cli.main(["protect", "--case", "c1", "--alias", "Olka", "--name", "Ola Mazur"]) == 0
    capsys.readouterr()
    assert cli.main(["protect", "--case", "c1", "--list"]) == 0
    (person,) = json.loads(capsys.readouterr().out)
    assert person["aliases"] == ["Olka"] and person["phones"] == ["+44 7700 900777"]  # merged by name
    assert cli.main(["protect", "--case", "c1", "--dob", "next spring"]) == 2
    assert "date of birth" in capsys.readouterr().err


def test_the_admin_tab_ingest_reads_the_case_file_through_the_same_path(tmp_path: Path) -> None:
    from assistant.access.session import Session
    from assistant.app import App
    from assistant.config import load_settings
    from assistant.pii.protected import ProtectedError, load_persons
    from assistant.ui.admin import ingest

    settings = load_settings(index_dir=tmp_path / "ix")
    settings.llm.backend = "extractive"
    app = App(settings)
    app.users.rounds = 4
    app.users.add_user("boss", "boss-password-1", "admin")
    app.users.add_user("rev", "rev-password-1", "reviewer")
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "statement.txt").write_text("Ola Mazur (07700 900777) got into a grey van driven by Tomas Varga.\n",
                                          encoding="utf-8")
    (folder / "protected.json").write_text(json.dumps([{"names": ["Ola Mazur"], "phones": ["07700 900777"]}]),
                                           encoding="utf-8")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "note.txt").write_text("Tomas Varga drove.\n", encoding="utf-8")
    (bad / "protected.json").write_text("[{\"names\": [\"X\"], \"dobs\": [\"soon\"]}]", encoding="utf-8")
    settings.ui.ingest_roots = [str(tmp_path)]  # the Admin tab's folder field reads under configured roots only
    admin = Session.for_username(app, "boss")
    with pytest.raises(ProtectedError, match=r"protected\.json"):  # named, and nothing of that folder ingested
        ingest(admin, "c2", str(bad))
    assert "c2" not in app.list_cases()
    assert "1 file(s) indexed" in ingest(admin, "c2", str(folder))
    (person,) = load_persons(settings.index_dir, "c2")
    assert person.names == ("Ola Mazur",)
    (record,) = [r for r in app.audit.records(case="c2") if r.kind == "protect"]
    assert record.user == "boss" and record.payload["via"] == "case file"
    admin.assign("rev", "c2")
    shown = json.dumps(Session.for_username(app, "rev").ask("c2", "Who got into the grey van?").to_json())
    assert "Mazur" not in shown and "900777" not in shown and "Varga" in shown


def test_a_case_file_uploaded_alone_is_listed_as_applied_never_as_evidence(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15: a protected.json uploaded on its own (Gradio keeps the name in its own upload folder) is applied and
    reported as a protected-persons file, neither as a file ingested nor as a README-like note, and never indexed."""
    from assistant.access.session import Session
    from assistant.app import App
    from assistant.config import load_settings
    from assistant.pii.protected import load_persons
    from assistant.ui.admin import ingest

    settings = load_settings(index_dir=tmp_path / "ix")
    settings.llm.backend = "extractive"
    settings.ingest.not_evidence = ["readme*"]  # applied and never indexed whatever this setting lists
    settings.ui.ingest_roots = [str(tmp_path)]
    app = App(settings)
    app.users.rounds = 4
    app.users.add_user("boss", "boss-password-1", "admin")
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "statement.txt").write_text("Tomas Varga drove the grey van.\n", encoding="utf-8")
    assert "1 file(s) indexed" in ingest(Session.for_username(app, "boss"), "c3", str(folder))
    upload = tmp_path / "gradio" / "0f3a9c" / "protected.json"
    upload.parent.mkdir(parents=True)
    upload.write_text(json.dumps([{"names": ["Ola Mazur"], "phones": ["07700 900777"]}]), encoding="utf-8")
    shown = ingest(Session.for_username(app, "boss"), "c3", uploads=[str(upload)])
    assert f"| {md_text('protected.json')} | {md_text('protected-persons file applied')}" in shown
    assert shown.endswith("0 file(s) indexed into 0 passage(s), 0 unchanged, 0 not ingested, 0 not evidence, "
                          "1 protected-persons file(s) applied.")
    (person,) = load_persons(settings.index_dir, "c3")
    assert person.names == ("Ola Mazur",)
    assert app.list_sources("c3") == ["statement.txt"]  # never indexed as evidence
    (record,) = [r for r in app.audit.records(case="c3") if r.kind == "ingest" and r.payload.get("paths") == 1
                 and r.payload["report"]["protected_persons_files"]]
    assert record.payload["report"]["ingested"] == [] and record.payload["report"]["not_evidence"] == []
    cli_report = app.ingest([upload], "c3", progress=False)  # the command line: exit code 0, listed the same way
    assert cli_report.exit_code == 0 and cli_report.protected == ["protected.json"]
