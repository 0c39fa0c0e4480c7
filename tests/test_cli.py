"""One exit-code policy for every command: 0 done, 2 nothing done / bad input, 1 internal error or failed check."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main as cli


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "indexes"))


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "exit codes" in text and "  0  done" in text and "  2  nothing done" in text and "  1  internal" in text


def test_bad_input_exits_2_for_product_and_admin_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--case", "Not A Case", "where?"]) == 2
    assert "invalid case id" in capsys.readouterr().err
    assert cli.main(["users", "assign", "nobody", "kestrel"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert cli.main(["audit", "verify", "--expect-head", "12:abc"]) == 2
    assert "SEQ:HASH" in capsys.readouterr().err


def test_nothing_ingested_exits_2_and_success_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["ingest", str(empty), "--case", "c1", "--no-progress"]) == 2
    assert cli.main(["users", "add", "ann", "--role", "reviewer", "--password", "a-long-password-1"]) == 0
    assert cli.main(["users", "list"]) == 0 and "ann" in capsys.readouterr().out


def test_an_internal_error_exits_1_and_names_its_type(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "_app", broken)
    assert cli.main(["cases"]) == 1
    assert "internal error: RuntimeError" in capsys.readouterr().err
