"""Size caps and the zip-bomb check (issue 14): a hostile or oversized file costs that file only, with a reason that
names the limit; real archives (the demo DOCX) pass. Ends with a bad-input corpus through the real ingest."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import IngestError
from assistant.loaders import read_source
from assistant.loaders.limits import MIB, Limits

ROOT = Path(__file__).resolve().parent.parent
DEMO_DOCX = ROOT / "demo" / "operation-kestrel" / "statements" / "social_worker_statement.docx"


def _bomb(path: Path, member: str, inflated_mib: int = 64) -> Path:
    """A real deflate bomb: one member of zeros, about 1,000x smaller packed."""
    with (zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open(member, "w", force_zip64=True) as handle):
        for _ in range(inflated_mib):
            handle.write(b"\0" * MIB)
    return path


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)  # a huge file that takes no disk and must never be read
    return path


@pytest.mark.parametrize(("name", "member"), [("bomb.docx", "word/document.xml"), ("bomb.ufdr", "report.xml"),
                                              ("bomb.zip", "chat.txt")])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path, name: str, member: str) -> None:
    path = _bomb(tmp_path / name, member)
    assert os.stat(path).st_size < MIB // 10
    with pytest.raises(IngestError, match=r"zip would inflate [\d,]+x .*ASSISTANT_INGEST__MAX_ZIP_RATIO"):
        read_source(path, tmp_path)


def test_a_zip_over_the_streamed_cap_is_refused_whatever_its_ratio(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "big.ufdr", "report.xml", inflated_mib=3)
    with pytest.raises(IngestError, match="ASSISTANT_INGEST__MAX_STREAMED_MB"):
        read_source(path, tmp_path, Limits(max_streamed_mb=2))


def test_a_real_docx_passes_the_zip_check() -> None:
    read = read_source(DEMO_DOCX, DEMO_DOCX.parent)
    assert read.data is not None and read.sha256


def test_size_caps_refuse_without_reading(tmp_path: Path) -> None:
    huge = _sparse(tmp_path / "huge.txt", 600 * MIB)
    with pytest.raises(IngestError, match=r"600 MiB, over the 512 MiB limit \(ASSISTANT_INGEST__MAX_FILE_MB\)"):
        read_source(huge, tmp_path)
    db = _sparse(tmp_path / "phone.db", 3 * MIB)
    with pytest.raises(IngestError, match="ASSISTANT_INGEST__MAX_STREAMED_MB"):
        read_source(db, tmp_path, Limits(max_streamed_mb=2))


def test_a_bad_input_corpus_costs_each_bad_file_only(tmp_path: Path) -> None:
    from assistant.app import App
    from assistant.config import load_settings

    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "good.txt").write_text("The night porter saw the courier leave at ten.\n", encoding="utf-8")
    (folder / "good2.md").write_text("# Note\nThe courier returned the parcel on Monday.\n", encoding="utf-8")
    _bomb(folder / "bomb.docx", "word/document.xml")
    _bomb(folder / "bomb.ufdr", "report.xml")
    _bomb(folder / "bomb.zip", "chat.txt")
    _sparse(folder / "huge.txt", 600 * MIB)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "bad.xml").write_bytes(b"<report><unclosed>")
    (folder / "tab\tand\x1bescape.txt").write_text("A name with control characters.\n", encoding="utf-8")
    (folder / "text.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\n")
    os.mkfifo(folder / "pipe.csv")
    os.symlink(folder / "loop.txt", folder / "loop.txt")
    os.symlink("/etc/hostname", folder / "escape.txt")
    app: Any = App(load_settings(index_dir=tmp_path / "idx"))
    report = app.ingest([folder], "bad", progress=False)
    tried = sorted(os.listdir(folder))
    handled = set(report.ingested) | {Path(s).name for s, _ in report.failed}
    crashes = [r for _, r in report.failed if r.startswith("unexpected error")]
    print(f"bad-input corpus: tried {len(tried)}, ingested {len(report.ingested)}, refused with a reason "
          f"{len(report.failed)}, crashes {len(crashes)}")
    assert handled == set(tried)  # every input is either ingested or reported
    assert not crashes and all(reason.strip() for _, reason in report.failed)
    assert {"good.txt", "good2.md"} <= set(report.ingested)
    for bomb in ("bomb.docx", "bomb.ufdr", "bomb.zip"):
        assert "MAX_ZIP_RATIO" in dict(report.failed)[bomb]
    assert "MAX_FILE_MB" in dict(report.failed)["huge.txt"]
