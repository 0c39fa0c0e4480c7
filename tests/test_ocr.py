"""OCR of scanned pages with the real Tesseract: image-only PDFs, rotated PNGs, multi-page TIFFs, page locators,
confidence in the text, and a question answered only by a scanned page with a verified citation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.loaders import load_file_with_notes
from assistant.loaders.ocr import available, parse_tsv
from evals.scans import FONT, as_bytes, render_page

pytestmark = [pytest.mark.ocr, pytest.mark.skipif(not available() or not FONT.is_file(),
                                                   reason="needs tesseract and fonts-dejavu-core: "
                                                          "scripts/install_ocr.sh")]

STATEMENT = ["Witness statement of Aisha Khan, page 2.",
             "On Friday evening I saw a silver Vauxhall Corsa parked outside the launderette.",
             "The driver handed a brown envelope to a man in a red cap."]


def test_an_image_only_pdf_is_read_by_ocr_with_page_locators(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(as_bytes([render_page(["Page one of the scan."]), render_page(STATEMENT)], "PDF"))
    doc, notes = load_file_with_notes(path, tmp_path)
    assert doc.kind == "pdf" and len(doc.pages) == 2
    _, start, end = doc.pages[1]
    page2 = doc.text[start:end]
    assert page2.startswith("[Scanned page 2 read by OCR, confidence ")
    assert "silver Vauxhall Corsa parked outside the launderette" in page2
    assert notes[-1].startswith("OCR: 2 page(s) read, mean confidence ")


def test_a_slightly_rotated_png_and_a_multi_page_tiff(tmp_path: Path) -> None:
    png = tmp_path / "rotated.png"
    png.write_bytes(as_bytes([render_page(STATEMENT, angle=2.0)], "PNG"))
    doc, _ = load_file_with_notes(png, tmp_path)
    assert "silver Vauxhall Corsa parked outside the launderette" in doc.text  # 2° skew read as well
    assert "brown envelope" in doc.text
    tiff = tmp_path / "bundle.tiff"
    tiff.write_bytes(as_bytes([render_page(["First page."]), render_page(["Second page says Corsa."])], "TIFF"))
    doc, notes = load_file_with_notes(tiff, tmp_path)
    assert [p[0] for p in doc.pages] == [1, 2] and "Corsa" in doc.text[doc.pages[1][1]:doc.pages[1][2]]
    assert notes[0].startswith("OCR: 2 page(s) read")


def test_low_confidence_is_said_in_the_page_text() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t41.5\tsmudged\n5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t52.5\twords\n")
    from assistant.loaders.ocr import header

    page = parse_tsv(tsv)
    assert (page.text, round(page.confidence), page.words) == ("smudged words", 47, 2)
    assert "LOW: check the scan" in header(3, page)


def test_an_unreadable_image_is_refused_with_the_reason(tmp_path: Path) -> None:
    from assistant.errors import IngestError

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(IngestError, match="unreadable image"):
        load_file_with_notes(bad, tmp_path)


def test_a_question_answered_only_by_a_scanned_page(tmp_path_factory: pytest.TempPathFactory) -> None:
    from assistant.app import App
    from assistant.config import load_settings

    case = tmp_path_factory.mktemp("scancase")
    (case / "statement_scan.pdf").write_bytes(as_bytes([render_page(["Page one: background."]),
                                                        render_page(STATEMENT)], "PDF"))
    (case / "notes.txt").write_text("The launderette is on Mill Lane. CCTV there was not working in March.\n",
                                    encoding="utf-8")
    settings = load_settings(index_dir=tmp_path_factory.mktemp("index"))
    settings.llm.backend = "extractive"
    app: Any = App(settings)
    report = app.ingest([case], "scan", progress=False)
    assert sorted(report.ingested) == ["notes.txt", "statement_scan.pdf"], report.failed
    answer = app.ask("scan", "What car was parked outside the launderette?")
    assert answer.status == "answered", answer.answer
    cited = [c for c in answer.citations if c.source == "statement_scan.pdf"]
    assert cited and all(c.verified for c in cited) and cited[0].locator.startswith("p. 2")
    assert "Vauxhall Corsa" in answer.answer
    assert "read by OCR, confidence" in cited[0].text  # the cited passage says it rests on OCR


def test_ocr_confidence_reaches_the_chunks(tmp_path: Path) -> None:
    from assistant.config import load_settings
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.tokenizer import load_tokenizer

    path = tmp_path / "page.png"
    path.write_bytes(as_bytes([render_page(STATEMENT)], "PNG"))
    doc, _ = load_file_with_notes(path, tmp_path)
    (chunk,) = chunk_document(doc, "c", load_tokenizer(), load_settings())
    assert chunk.locator.startswith("p. 1, ") and chunk.meta["ocr_confidence"] == doc.ocr_pages[0][1] > 86


@pytest.mark.parametrize(("confidence", "noted"), [(83.0, True), (95.0, False)])
def test_an_answer_resting_on_low_confidence_ocr_says_so(confidence: float, noted: bool) -> None:
    from assistant.answer.answerer import with_ocr_note
    from assistant.types import Answer, Citation, Passage

    passage = Passage(chunk_id="c:1", case="c", source="scan.pdf", locator="p. 2, lines 1–3", text="A Corsa.",
                      score=1.0, meta={"page": 2, "ocr_confidence": confidence})
    citation = Citation(n=1, chunk_id="c:1", source="scan.pdf", locator=passage.locator, quote="A Corsa.",
                        text=passage.text, verified=True)
    answer = Answer(question="q", case="c", status="answered", answer="A Corsa. [1]", backend="extractive",
                    citations=(citation,), retrieved=(passage,))
    notes = with_ocr_note(answer).notes
    assert (notes == ("Citation(s) [1] (83/100) rest on a scanned page read by OCR with low confidence (< 86/100): "
                      "check the scan before relying on them.",)) if noted else notes == ()
