"""`assistant protect` and the `protected.json` case file of an ingested folder, through the real CLI and App."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.cli import main as cli


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
