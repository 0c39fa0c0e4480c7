"""Each file is parsed in a child process with a time and an address-space limit (issue 14): a file that hangs the
parser, allocates past the limit or kills the worker costs that file only, with the reason; the batch goes on and
the parent is untouched. The faults are triggered through `ASSISTANT_FAULT_PARSE` (inert unless set)."""

from __future__ import annotations

import os
import re
import resource
import signal
from pathlib import Path
from typing import Any

import pytest

from assistant.app import App
from assistant.config import load_settings
from assistant.errors import IngestError
from assistant.ingest.isolation import ParserProcess
from assistant.ingest.parse_worker import FAULT_ENV
from assistant.loaders import read_source


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "a_good.txt").write_text("DC Hollis seized the grey Nokia handset at 09:40.\n", encoding="utf-8")
    (folder / "b_bad.txt").write_text("This file makes the parser misbehave.\n", encoding="utf-8")
    (folder / "c_good.md").write_text("# Note\n\nThe van was registered to Marek Wolski.\n", encoding="utf-8")
    return folder


# the allocating file gets a generous time limit, so a loaded machine never turns its memory failure into a timeout;
# the hanging file's 6 s also covers the good file parsed first (its limit includes starting the worker: 1.3-1.5 s
# quiet, over 2 s at load 20)
@pytest.mark.parametrize(("fault", "timeout_s", "reason"),
                         [("hang", 6, r"longer than 6 s .*ingest\.parse_timeout_s"),
                          ("alloc", 120, r"memory limit .*ingest\.parse_memory_mb")])
def test_a_hostile_file_costs_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str,
                                             timeout_s: int, reason: str) -> None:
    monkeypatch.setenv(FAULT_ENV, f"{fault}:b_bad.txt")
    settings = load_settings(index_dir=tmp_path / "idx",
                             ingest={"parse_timeout_s": timeout_s, "parse_memory_mb": 512})
    app: Any = App(settings)
    before = resource.getrlimit(resource.RLIMIT_AS)
    report = app.ingest([_folder(tmp_path)], "iso", progress=False)
    assert report.ingested == ["a_good.txt", "c_good.md"]
    [(source, why)] = report.failed
    assert source == "b_bad.txt"
    assert re.search(reason, why), why
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # the limit binds the child, never this process
    assert app.ingestor.parser.starts == 2  # a fresh worker after the failure, one before it for both good files
    hits = app.retrieve("iso", "Who was the van registered to?", top_k=3)
    assert any("Marek Wolski" in p.text for p in hits)


def test_a_worker_killed_mid_parse_is_reported_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    monkeypatch.setenv(FAULT_ENV, "hang:b_bad.txt")
    parser = ParserProcess(timeout_s=30, memory_mb=512)
    try:
        doc, _ = parser.parse(read_source(folder / "a_good.txt", folder))
        assert "grey Nokia" in doc.text
        proc = parser._proc
        assert proc is not None
        import threading

        threading.Timer(1.0, os.kill, (proc.pid, signal.SIGKILL)).start()  # like the kernel's OOM killer
        with pytest.raises(IngestError, match=r"parser process died .*SIGKILL"):
            parser.parse(read_source(folder / "b_bad.txt", folder))
        doc, _ = parser.parse(read_source(folder / "c_good.md", folder))
        assert "Marek Wolski" in doc.text and parser.starts == 2
    finally:
        parser.close()
    assert parser._proc is None


def test_parse_errors_cross_the_process_boundary_unchanged(tmp_path: Path) -> None:
    (tmp_path / "fake.json").write_text('{"not": "telegram"}', encoding="utf-8")
    parser = ParserProcess(timeout_s=30, memory_mb=1024)
    try:
        with pytest.raises(IngestError, match="not a Telegram Desktop export") as caught:
            parser.parse(read_source(tmp_path / "fake.json", tmp_path))
        assert caught.value.path == "fake.json"
        assert parser.starts == 1 and parser.last_peak_kb > 0  # an ordinary refusal keeps the worker
    finally:
        parser.close()


@pytest.mark.parametrize(("fault", "why"), [("garbage", r"not UTF-8 JSON"),
                                            ("huge", r"a frame of \d+ bytes was announced, over the cap of 536870912"),
                                            ("shape", r"unknown document kind 'exe'")])
def test_a_malformed_reply_is_refused_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str,
                                                      why: str) -> None:
    """Replies are data only (ingest.wire): a pickle, an absurd length or JSON of the wrong shape is never decoded into
    an object; the file is reported with the reason and a fresh worker parses the next one."""
    folder = _folder(tmp_path)
    monkeypatch.setenv(FAULT_ENV, f"{fault}:b_bad.txt")
    parser = ParserProcess(timeout_s=30, memory_mb=512)
    try:
        assert "grey Nokia" in parser.parse(read_source(folder / "a_good.txt", folder))[0].text
        with pytest.raises(IngestError, match=rf"malformed reply \({why}") as caught:
            parser.parse(read_source(folder / "b_bad.txt", folder))
        assert caught.value.path == "b_bad.txt"
        assert "Marek Wolski" in parser.parse(read_source(folder / "c_good.md", folder))[0].text
        assert parser.starts == 2
    finally:
        parser.close()


def test_documents_cross_the_pipe_field_for_field(tmp_path: Path) -> None:
    """What the worker sends back is exactly what parsing in this process gives: messages, pages, notes."""
    from assistant.loaders import parse_source

    (tmp_path / "chat.csv").write_text(
        "timestamp,sender,body,translation\n2024-03-01 10:00,Ana,Dobar dan,Good day\n"
        "2024-03-01 10:05,Marek,\"Meet at the dock, 9pm\",\n2024-03-01 10:06,Ana,,\n", encoding="utf-8")
    (tmp_path / "paged.txt").write_text("page one\fpage two\fpage three\n", encoding="utf-8")
    parser = ParserProcess(timeout_s=30, memory_mb=1024)
    try:
        for name in ("chat.csv", "paged.txt"):
            read = read_source(tmp_path / name, tmp_path)
            assert parser.parse(read) == parse_source(read)
    finally:
        parser.close()


_DOC = {"source": "a.txt", "kind": "text", "text": "x", "sha256": "0" * 64, "pages": [], "title": "", "ocr_pages": [],
        "messages": []}


@pytest.mark.parametrize("meta", [
    [], {"kind": "exec"}, {"kind": "error", "payload": 3, "peak_kb": 1}, {"kind": "ok", "payload": {}, "peak_kb": 1},
    {"kind": "ok", "payload": {"document": {**_DOC, "pages": [[1, 2]]}, "notes": []}, "peak_kb": 1},
    {"kind": "ok", "payload": {"document": {**_DOC, "text": None}, "notes": []}, "peak_kb": 1},
    {"kind": "ok", "payload": {"document": {**_DOC, "messages": [["m1"]]}, "notes": []}, "peak_kb": 1},
    {"kind": "ok", "payload": {"document": _DOC, "notes": [1]}, "peak_kb": 1},
    {"kind": "ok", "payload": {"document": _DOC, "notes": []}, "peak_kb": True},
])
def test_replies_of_the_wrong_shape_are_malformed(meta: Any) -> None:
    from assistant.ingest.wire import Malformed, decode_reply

    with pytest.raises(Malformed):
        decode_reply(meta)


def test_a_frame_nested_beyond_reason_is_malformed() -> None:
    import io

    from assistant.ingest.wire import Malformed, frame, read_frame, stream_reader

    deep = b"[" * 200_000
    data = len(deep).to_bytes(8, "little") + deep + bytes(8)
    with pytest.raises(Malformed, match="not UTF-8 JSON"):
        read_frame(stream_reader(io.BytesIO(data)), 1 << 20)
    assert read_frame(stream_reader(io.BytesIO(frame({"kind": "ok"}, b"raw"))), 1 << 20) == ({"kind": "ok"}, b"raw")


def test_a_parser_pipe_numbered_above_1024_is_read(tmp_path: Path) -> None:
    """A long-lived process (a server with many cases open, a whole test session) holds over a thousand descriptors;
    the reply pipe then gets a number select() refuses. The reader must not care."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"descriptor limit {hard} too low to reach 1024")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    folder = _folder(tmp_path)
    parser = ParserProcess(timeout_s=30, memory_mb=512)
    try:
        doc, _ = parser.parse(read_source(folder / "a_good.txt", folder))
        assert parser._proc is not None and parser._proc.stdout is not None
        assert parser._proc.stdout.fileno() >= 1024  # the case this test is about
        assert "grey Nokia" in doc.text
    finally:
        parser.close()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
