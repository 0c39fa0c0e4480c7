"""OCR of scanned pages with Debian's Tesseract (installed by scripts/install_ocr.sh), for images (png, jpg, tiff,
one page per frame) and PDF pages without a text layer.

Tesseract runs as a child process on each page image (`tsv` output: one row per word with its confidence), with
`--psm 1` (page segmentation with orientation and script detection, so a page scanned sideways is read upright).
The page text is rebuilt line by line from the words. Every OCR'd page starts with a header line saying so, with
the page's mean word confidence (0-100), and "LOW" below `LOW_CONFIDENCE`, so a reviewer reading a cited passage
knows it rests on OCR. Languages: the `ASSISTANT_OCR_LANGUAGES` environment variable (Tesseract's `a+b` form),
default the installed packs of the cases' languages written in the page's script (detected first).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

from assistant.errors import IngestError
from assistant.types import Document

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
CASE_LANGUAGES = ("eng", "pol", "ron", "vie", "ara", "urd")
_SCRIPT_LANGUAGES = {"Latin": ("eng", "pol", "ron", "vie"), "Arabic": ("ara", "urd")}
LOW_CONFIDENCE = 86.0  # evals/ocr_cer.py: Urdu pages (CER 0.28-0.34) read 78-83; eng/pol/ron/ara/vie pages 90-97
TIMEOUT_S = 120.0
NOT_INSTALLED = "OCR needs Tesseract: run scripts/install_ocr.sh (make install does)"


@dataclass(frozen=True)
class OcrPage:
    text: str
    confidence: float  # mean word confidence 0-100; 0 when no word was read
    words: int


def available() -> bool:
    return shutil.which("tesseract") is not None


def languages() -> str:
    wanted = os.environ.get("ASSISTANT_OCR_LANGUAGES", "")
    if wanted:
        return wanted
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "eng"
    have = set(out.stdout.split())
    return "+".join(lang for lang in CASE_LANGUAGES if lang in have) or "eng"


def script_languages(image: bytes, installed: str) -> str:
    """The installed case languages of the page's script (Tesseract OSD): reading Urdu with the Latin packs loaded
    too doubles its errors (evals/ocr_cer.py); the whole set when the script is unknown."""
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "0"], input=image, capture_output=True,
                              timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return installed
    script = next((line.split(":", 1)[1].strip() for line in done.stdout.decode("utf-8", "replace").splitlines()
                   if line.startswith("Script:")), "")
    wanted = _SCRIPT_LANGUAGES.get(script, ())
    chosen = [lang for lang in installed.split("+") if lang in wanted]
    return "+".join(chosen) or installed


def ocr_image(image: bytes, source: str, langs: str | None = None) -> OcrPage:
    """Read one page image. Raises IngestError when Tesseract is missing or fails on the image."""
    if not available():
        raise IngestError(source, NOT_INSTALLED)
    langs = langs or script_languages(image, languages())
    command = ["tesseract", "stdin", "stdout", "-l", langs, "--psm", "1", "tsv"]
    try:
        done = subprocess.run(command, input=image, capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise IngestError(source, f"OCR timed out after {TIMEOUT_S:.0f} s on one page") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown error"]
        raise IngestError(source, f"OCR failed: {reason[0][:200]}")
    return parse_tsv(done.stdout.decode("utf-8", "replace"))


def parse_tsv(tsv: str) -> OcrPage:
    """Page text (words joined per line, a blank line between paragraphs) and mean word confidence."""
    rows = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for row in rows:
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines.setdefault(key, []).append(word)
        conf = float(row.get("conf") or -1)
        if conf >= 0:
            confidences.append(conf)
    out: list[str] = []
    previous: tuple[int, int] | None = None
    for key in sorted(lines):
        if previous is not None and key[:2] != previous:
            out.append("")
        out.append(" ".join(lines[key]))
        previous = key[:2]
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrPage("\n".join(out), mean, len(confidences))


def header(page: int, result: OcrPage) -> str:
    """The line that opens every OCR'd page, so a cited passage says it rests on OCR and how sure it is."""
    low = " — LOW: check the scan before relying on this text" if result.confidence < LOW_CONFIDENCE else ""
    return f"[Scanned page {page} read by OCR, confidence {result.confidence:.0f}/100{low}]"


def image_pages(data: bytes, source: str) -> list[bytes]:
    """Each frame of an image file as PNG bytes (a multi-page TIFF has several)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = []
            for frame in ImageSequence.Iterator(img):
                buffer = io.BytesIO()
                frame.convert("RGB").save(buffer, format="PNG")
                frames.append(buffer.getvalue())
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError(source, f"unreadable image ({type(exc).__name__}: {exc})") from exc
    return frames


def ocr_notes(results: list[tuple[int, OcrPage]]) -> list[str]:
    if not results:
        return []
    mean = sum(r.confidence for _, r in results) / len(results)
    low = [n for n, r in results if r.confidence < LOW_CONFIDENCE]
    note = f"OCR: {len(results)} page(s) read, mean confidence {mean:.0f}/100"
    if low:
        note += f"; LOW confidence (< {LOW_CONFIDENCE:.0f}) on page(s) {', '.join(str(n) for n in low)}"
    return [note]


def load_image(data: bytes, source: str, sha256: str) -> tuple[Document, list[str]]:
    """A scanned image (one page per frame): OCR'd text with a header per page; pages are form-feed spans."""
    from assistant.loaders.text import form_feed_pages

    results = [(n, ocr_image(frame, source)) for n, frame in enumerate(image_pages(data, source), start=1)]
    if not any(r.text.strip() for _, r in results):
        raise IngestError(source, "OCR found no text on this image")
    text = "\f".join(f"{header(n, r)}\n{r.text}" for n, r in results)
    pages = form_feed_pages(text) or ((1, 0, len(text)),)
    doc = Document(source=source, kind="text", text=text, sha256=sha256, pages=pages,
                   ocr_pages=tuple((n, round(r.confidence, 1)) for n, r in results))
    return doc, ocr_notes(results)


def ocr_pdf_page(page: object, number: int, source: str) -> OcrPage | None:
    """The largest image of a PDF page without a text layer, OCR'd; None when the page holds no image."""
    images = list(getattr(page, "images", []) or [])
    if not images:
        return None
    biggest = max(images, key=lambda im: len(im.data))
    return ocr_image(image_pages(biggest.data, source)[0], source)
