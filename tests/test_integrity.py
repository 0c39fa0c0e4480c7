"""Nothing lost, nothing silently merged (issue 14): message CSV rows, non-regular files, one name from two roots.

Small neutral files made in tmp_path; the ingest tests run the real App (Chroma, Presidio, the packaged embedder)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import IngestError
from assistant.loaders import discover_files, load_file_with_notes
from assistant.loaders.csv_rows import FIELD_CAP_CHARS
from assistant.loaders.files import open_regular, refusal

HEADER = "timestamp,sender,body,translation\n"


def _csv(tmp_path: Path, rows: str, name: str = "chat.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _load(path: Path) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    doc, notes = load_file_with_notes(path, path.parent)
    return [(m.message_id, m.sender, m.body, m.translation) for m in doc.messages], notes


def test_unclosed_quote_never_merges_the_rows_it_swallowed(tmp_path: Path) -> None:
    path = _csv(tmp_path, '2023-01-01T10:00,Ann,"starts a quote and never ends it,\n'
                          "2023-01-01T10:01,Bob,second message,\n"
                          "2023-01-01T10:02,Cat,third message,\n")
    messages, notes = _load(path)
    assert messages == [("m2", "Bob", "second message", ""), ("m3", "Cat", "third message", "")]
    assert len(notes) == 1 and notes[0].startswith("bad row 1 (line 2) not ingested: a field runs over 1 line(s)")
    assert "starts a quote" not in notes[0]  # notes never carry cell text


def test_unclosed_quote_in_the_last_row_is_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, "2023-01-01T10:00,Ann,first,\n2023-01-01T10:01,Bob,\"open\nstill open,\n")
    messages, notes = _load(path)
    assert messages == [("m1", "Ann", "first", "")]
    assert notes == ["bad row 2 (line 3) not ingested: unclosed quote: a quoted field is still open at the end "
                     "of the file"]


def test_unquoted_delimiter_is_a_bad_row_not_a_translation(tmp_path: Path) -> None:
    path = _csv(tmp_path, "2023-01-01T10:00,Ann,yes, at noon,\n2023-01-01T10:01,Bob,fine,\n2023-01-01T10:02,Cat\n")
    messages, notes = _load(path)
    assert messages == [("m2", "Bob", "fine", "")]
    assert notes == ["bad row 1 (line 2) not ingested: 5 cells where the header has 4 (a delimiter inside an "
                     "unquoted field?)",
                     "bad row 3 (line 4) not ingested: 2 cells where the header has 4 (a delimiter inside an "
                     "unquoted field?)"]


def test_quoted_multiline_bodies_and_escaped_quotes_stay_whole(tmp_path: Path) -> None:
    path = _csv(tmp_path, '2023-01-01T10:00,Ann,"line one\n2023-01-02 is a date in the text, ""quoted""",\n'
                          '2023-01-01T10:01,Bob,"a ""b"", c",ok\n')
    messages, notes = _load(path)
    assert messages == [("m1", "Ann", 'line one\n2023-01-02 is a date in the text, "quoted"', ""),
                        ("m2", "Bob", 'a "b", c', "ok")]
    assert notes == []


def test_a_field_up_to_the_cap_is_kept(tmp_path: Path) -> None:
    long_body = "word " * (FIELD_CAP_CHARS // 5)  # exactly the cap, spread over one line
    path = _csv(tmp_path, f'2023-01-01T10:00,Ann,"{long_body}",\n2023-01-01T10:01,Bob,short,\n')
    messages, notes = _load(path)
    assert [(m[0], len(m[2])) for m in messages] == [("m1", len(long_body.strip())), ("m2", 5)]
    assert notes == []


def test_a_field_over_the_cap_costs_its_row_only(tmp_path: Path) -> None:
    huge = "x\n" * (FIELD_CAP_CHARS // 2 + 10)  # a quoted field over the cap, spread over many lines
    path = _csv(tmp_path, f'2023-01-01T10:00,Ann,"{huge}",\n2023-01-01T10:01,Bob,short,\n')
    messages, notes = _load(path)
    assert messages == [("m2", "Bob", "short", "")]
    assert len(notes) == 1
    assert notes[0].startswith(f"bad row 1 (line 2) not ingested: a field is longer than the cap of "
                               f"{FIELD_CAP_CHARS:,} characters (lines 2-")


def test_only_bad_rows_is_an_error_naming_the_first(tmp_path: Path) -> None:
    path = _csv(tmp_path, "2023-01-01T10:00,Ann,a,b,c\n")
    with pytest.raises(IngestError) as info:
        load_file_with_notes(path, tmp_path)
    assert info.value.path == "chat.csv"
    assert "no usable rows (1 bad row(s), e.g. bad row 1 (line 2)" in info.value.reason


def test_many_bad_rows_are_all_listed(tmp_path: Path) -> None:
    rows = "".join(f"2023-01-01T10:{i % 60:02d},Ann,a,b,c\n" for i in range(120)) + "2023-01-01T11:00,Bob,ok,\n"
    messages, notes = _load(_csv(tmp_path, rows))
    assert messages == [("m121", "Bob", "ok", "")]
    assert len(notes) == 101 and notes[-1] == "20 more bad rows not ingested: rows " + ", ".join(
        str(n) for n in range(101, 121))


# ---------------------------------------------------------------- through the real ingest


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from assistant.app import App
    from assistant.config import load_settings

    return App(load_settings(index_dir=tmp_path_factory.mktemp("idx")))


def test_ingest_reports_bad_rows_and_indexes_the_good_ones(app: Any, tmp_path: Path) -> None:
    path = _csv(tmp_path, '2023-01-01T10:00,Ann,"the quote opens here,\n'
                          "2023-01-01T10:01,Bob,the lighthouse keeper waved,\n")
    report = app.ingest([path], "rows", progress=False)
    assert report.ingested == ["chat.csv"] and not report.failed
    assert [s for s, n in report.notes if n.startswith("bad row 1 (line 2) not ingested")] == ["chat.csv"]
    texts = [p.text for p in app.retrieve("rows", "lighthouse keeper", top_k=5)]
    assert any("the lighthouse keeper waved" in t for t in texts)
    assert not any("the quote opens here" in t for t in texts)


# ---------------------------------------------------------------- filesystem: regular files only


@pytest.fixture
def no_hang() -> Any:
    """Opening a FIFO blocks: fail the test after 20 s instead of hanging the suite."""
    def _alarm(signum: int, frame: Any) -> None:
        raise TimeoutError("blocked: a non-regular file was opened")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _hostile_folder(tmp_path: Path) -> Path:
    case = tmp_path / "case"
    case.mkdir()
    (case / "good.txt").write_text("The ferry left at dawn.\n", encoding="utf-8")
    (case / "inside.txt").symlink_to(case / "good.txt")  # a link inside the root: the same file, read once
    outside = tmp_path / "outside.txt"
    outside.write_text("Not part of this case.\n", encoding="utf-8")
    (case / "escape.txt").symlink_to(outside)
    os.mkfifo(case / "p.csv")
    (case / "loop_a.txt").symlink_to(case / "loop_b.txt")
    (case / "loop_b.txt").symlink_to(case / "loop_a.txt")
    (case / "again").symlink_to(case, target_is_directory=True)  # a folder link back to the root
    (case / "dangling.md").symlink_to(tmp_path / "gone.md")
    return case


def test_discover_refuses_pipes_escaping_links_and_loops(tmp_path: Path, no_hang: None) -> None:
    case = _hostile_folder(tmp_path)
    found, refused = discover_files([case])
    assert [(f.name, r) for f, r in found] == [("good.txt", case)]
    reasons = {p.name: r for p, r in refused}
    assert reasons["p.csv"] == "not a regular file: a named pipe (FIFO); never opened"
    assert reasons["escape.txt"].startswith("symbolic link to a file outside the ingested folder")
    assert reasons["loop_a.txt"].startswith("symbolic link loop") and reasons["loop_b.txt"].startswith(
        "symbolic link loop")
    assert reasons["again"].startswith("symbolic link to a folder; not followed")
    assert reasons["dangling.md"].startswith("dangling symbolic link")
    assert set(reasons) == {"p.csv", "escape.txt", "loop_a.txt", "loop_b.txt", "again", "dangling.md"}


def test_a_named_pipe_or_device_named_directly_is_refused_unopened(tmp_path: Path, no_hang: None) -> None:
    os.mkfifo(tmp_path / "p.csv")
    with pytest.raises(IngestError, match="named pipe"):
        load_file_with_notes(tmp_path / "p.csv", tmp_path)
    assert refusal(Path("/dev/null"), Path("/dev")) == "not a regular file: a character device; never opened"
    with pytest.raises(IngestError, match="named pipe"):  # the second line: a path swapped after the check
        open_regular(tmp_path / "p.csv", "p.csv")


def test_ingest_keeps_good_files_and_reports_every_refused_one(app: Any, tmp_path: Path, no_hang: None) -> None:
    case = _hostile_folder(tmp_path)
    report = app.ingest([case], "fs", progress=False)
    assert report.ingested == ["good.txt"]
    failed = {Path(source).name: reason for source, reason in report.failed}
    assert set(failed) == {"p.csv", "escape.txt", "loop_a.txt", "loop_b.txt", "again", "dangling.md"}
    assert all(failed.values())
    texts = [p.text for p in app.retrieve("fs", "part of this case ferry", top_k=5)]
    assert texts and not any("Not part of this case" in t for t in texts)


# ---------------------------------------------------------------- one name from two roots


def test_same_name_from_two_roots_is_refused_never_replaced(app: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "A" / "notes.txt", tmp_path / "B" / "notes.txt"
    for path, text in ((first, "The blue van was parked by the quay.\n"), (second, "The red boat sank at noon.\n")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    (tmp_path / "A" / "other.txt").write_text("A separate page about the harbour.\n", encoding="utf-8")
    report = app.ingest([tmp_path / "A", second], "names", progress=False)
    assert report.ingested == ["notes.txt", "other.txt"]
    assert report.failed == [(second.as_posix(), f"same source name 'notes.txt' as {first.as_posix()}, ingested "
                                                 "earlier in this batch; refused, not replaced (rename it, or "
                                                 "ingest it into another case)")]
    texts = " ".join(p.text for p in app.retrieve("names", "blue van red boat quay", top_k=5))
    assert "blue van" in texts and "red boat" not in texts


def test_same_name_is_free_when_the_first_file_failed(app: Any, tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    (tmp_path / "A" / "notes.txt").write_bytes(b"")
    (tmp_path / "B" / "notes.txt").write_text("The green kite flew over the field.\n", encoding="utf-8")
    report = app.ingest([tmp_path / "A", tmp_path / "B"], "names2", progress=False)
    assert report.ingested == ["notes.txt"]
    assert report.failed == [("notes.txt", "empty file (0 bytes)")]
