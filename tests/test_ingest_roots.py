"""Issue 14, the last intake holes: the Admin tab's server folder must resolve inside a configured ingest root
(`ui.ingest_roots`), uploads are capped by the server (Gradio's `max_file_size`) and deleted once ingested.

Real App (real Chroma in tmp_path, the packaged embedder, extractive backend), real Session and UI handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.access.auth import UserError
from assistant.access.demo import seed_demo_users
from assistant.access.logins import LoginSessions
from assistant.access.session import Session
from assistant.config import load_settings
from assistant.errors import AccessDenied
from assistant.ui import admin as ui_admin
from assistant.ui.build import launch_kwargs
from assistant.ui.network import launch_options
from assistant.ui.render import md_text

NOTE = "The blue ferry left Harwich at dawn carrying the crates of copper wire.\n"


@pytest.fixture()
def app(tmp_path: Path) -> Any:
    from assistant.app import App

    settings = load_settings(index_dir=tmp_path / "index", demo_index_dir=tmp_path / "index")
    settings.llm.backend = "extractive"
    application = App(settings)
    application.users.rounds = 4
    seed_demo_users(application)
    return application


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "note.txt").write_text(NOTE, encoding="utf-8")
    return path


def _denials(app: Any) -> list[Any]:
    return [r for r in app.audit.records(kind="denied") if r.payload.get("action") == "ingest folder"]


def test_no_roots_configured_refuses_the_folder_field_naming_the_setting(app: Any, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "cases" / "otter")
    with pytest.raises(UserError, match=r"ui\.ingest_roots") as err:
        ui_admin.ingest(Session.for_username(app, "admin"), "otter", str(folder))
    assert str(folder) in str(err.value) and "ASSISTANT_UI__INGEST_ROOTS" in str(err.value)
    assert "otter" not in app.list_cases()
    (record,) = _denials(app)
    assert record.user == "admin" and record.case == "otter" and "ui.ingest_roots" in record.payload["reason"]
    assert app.ingest([folder], "otter", progress=False).ingested == ["note.txt"]  # the CLI path is not limited


def test_folders_outside_the_roots_are_refused_also_through_dotdot_and_symlinks(app: Any, tmp_path: Path) -> None:
    root = tmp_path / "cases"
    _folder(root / "otter")
    outside = _folder(tmp_path / "private")
    (root / "otter" / "link").symlink_to(outside, target_is_directory=True)
    app.settings.ui.ingest_roots = [str(root)]
    admin = Session.for_username(app, "admin")
    for given, real in ((str(outside), outside), (f"{root}/../private", outside),
                        (str(root / "otter" / "link"), outside), ("/", Path("/"))):
        with pytest.raises(UserError, match="outside the configured ingest roots") as err:
            ui_admin.ingest(admin, "otter", given)
        assert repr(given) in str(err.value) and f"resolves to {real.resolve().as_posix()!r}" in str(err.value)
    assert len(_denials(app)) == 4 and "otter" not in app.list_cases()
    with pytest.raises(UserError, match="does not exist"):  # inside a root but missing: the usual message
        ui_admin.ingest(admin, "otter", str(root / "missing"))
    with pytest.raises(AccessDenied):  # a non-admin is refused as such, whatever the folder
        ui_admin.ingest(Session.for_username(app, "reviewer1"), "otter", str(outside))


def test_a_folder_inside_a_root_is_ingested_and_searchable(app: Any, tmp_path: Path) -> None:
    root = tmp_path / "cases"
    folder = _folder(root / "otter")
    app.settings.ui.ingest_roots = [str(tmp_path / "elsewhere"), f"{root}/./"]
    out = ui_admin.ingest(Session.for_username(app, "admin"), "otter", f"{root}/otter/../otter")
    assert "1 file(s) indexed" in out and _denials(app) == []
    assert app.store.source_state("otter", "note.txt").origin == folder.resolve().as_posix()
    answer = Session.for_username(app, "admin").ask("otter", "Where did the blue ferry leave from?")
    assert any("Harwich" in p.text for p in answer.retrieved)


def test_uploads_are_deleted_after_ingest_and_stay_searchable(app: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    uploads = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))  # Gradio's upload folder: one folder per upload
    good = _folder(uploads / "3f2a") / "note.txt"
    bad = uploads / "9c41" / "photo.xyz"  # refused (unsupported type): deleted all the same
    bad.parent.mkdir()
    bad.write_bytes(b"\x00\x01")
    server_file = tmp_path / "server" / "other.txt"  # not in the upload folder: never deleted
    server_file.parent.mkdir()
    server_file.write_text(NOTE, encoding="utf-8")
    out = ui_admin.ingest(Session.for_username(app, "admin"), "otter", uploads=[str(good), str(bad),
                                                                                str(server_file)])
    assert md_text("unsupported file type '.xyz'") in out and "2 file(s) indexed" in out
    assert not good.exists() and not good.parent.exists() and not bad.exists() and not bad.parent.exists()
    assert uploads.is_dir() and server_file.read_text(encoding="utf-8") == NOTE
    state = app.store.source_state("otter", "note.txt")
    assert state is not None and state.origin == "upload"
    answer = Session.for_username(app, "admin").ask("otter", "Where did the blue ferry leave from?")
    assert any("Harwich" in p.text for p in answer.retrieved)


def test_a_failed_ingest_still_deletes_the_uploads(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    upload = _folder(tmp_path / "gradio" / "77aa") / "note.txt"
    with pytest.raises(UserError):  # an invalid case id: the ingest itself raises
        ui_admin.ingest(Session.for_username(app, "admin"), "../escape", uploads=[str(upload)])
    assert not upload.exists()


def test_launch_kwargs_cap_uploads_at_max_file_mb(app: Any) -> None:
    app.settings.ingest.max_file_mb = 3
    kwargs = launch_kwargs(app, LoginSessions(app.users, app.settings.access), launch_options(app.settings.ui))
    assert kwargs["max_file_size"] == 3 * 1024 * 1024
    assert kwargs["server_name"] == "127.0.0.1" and kwargs["share"] is False and kwargs["show_error"] is False
