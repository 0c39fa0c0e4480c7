"""Pages rendered from known text (DejaVu Sans from Debian's fonts-dejavu-core, installed with Tesseract by
scripts/install_ocr.sh), as PNG, multi-page TIFF or an image-only PDF, for evals/ocr_cer.py and the OCR tests."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def render_page(lines: list[str], *, angle: float = 0.0, size: int = 26, width: int = 1600,
                rtl: bool = False) -> Image.Image:
    font = ImageFont.truetype(str(FONT), size, layout_engine=ImageFont.Layout.RAQM) if FONT.is_file() \
        else ImageFont.load_default()
    page = Image.new("L", (width, 120 + len(lines) * int(size * 1.8)), 255)
    draw = ImageDraw.Draw(page)
    for n, line in enumerate(lines):
        if rtl:  # right-aligned, laid out right to left by raqm
            draw.text((width - 60, 60 + n * int(size * 1.8)), line, font=font, fill=0, anchor="ra", direction="rtl")
        else:
            draw.text((60, 60 + n * int(size * 1.8)), line, font=font, fill=0)
    return page.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC) if angle else page


def as_bytes(pages: list[Image.Image], fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "PDF":
        pages[0].convert("RGB").save(out, format="PDF", save_all=True,
                                     append_images=[p.convert("RGB") for p in pages[1:]], resolution=150)
    else:
        pages[0].save(out, format=fmt, save_all=len(pages) > 1, append_images=pages[1:])
    return out.getvalue()
