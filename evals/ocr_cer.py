"""Character error rate of the OCR per language, on pages rendered from known text (NTREX-128 newstest2019
sentences: eng, pol, ron, arb, urd, vie, from the `eval_data` setting), upright and rotated by 2 degrees.

    .venv/bin/python -m evals.ocr_cer [--pages 2] [--lines 8]

CER = Levenshtein distance between the OCR text and the rendered text (whitespace runs collapsed) / length of the
rendered text. Each page is read as the product reads it (the installed case languages of the page's script,
loaders.ocr) and, for comparison, with its own language only. The page confidence is reported next to the CER,
which is what the LOW_CONFIDENCE flag of loaders.ocr rests on. Results: evals/results/ocr_cer.json and printed.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path
from typing import Any

from assistant.config import load_settings
from assistant.loaders.ocr import LOW_CONFIDENCE, available, languages, ocr_image
from evals.scans import as_bytes, render_page

FILES = {"eng": "newstest2019-src.eng.txt", "pol": "newstest2019-ref.pol.txt", "ron": "newstest2019-ref.ron.txt",
         "ara": "newstest2019-ref.arb.txt", "urd": "newstest2019-ref.urd.txt", "vie": "newstest2019-ref.vie.txt"}
OUT = Path(__file__).resolve().parent / "results" / "ocr_cer.json"


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _norm(text: str) -> str:
    text = re.sub(r"^\[Scanned page.*?\]\n", "", text)
    return re.sub(r"\s+", " ", text).strip()


def cer(ocr: str, truth: str) -> float:
    truth = _norm(truth)
    return levenshtein(_norm(ocr), truth) / max(1, len(truth))


def pages_of(data_dir: Path, lang: str, pages: int, lines: int) -> list[list[str]]:
    sentences = (data_dir / "ntrex" / FILES[lang]).read_text(encoding="utf-8").splitlines()
    wrapped: list[str] = []
    for sentence in sentences[5:]:
        wrapped.extend(textwrap.wrap(sentence, 70))
        if len(wrapped) >= pages * lines:
            break
    return [wrapped[n * lines:(n + 1) * lines] for n in range(pages)]


def run(pages: int, lines: int) -> dict[str, Any]:
    data_dir = load_settings().eval_data
    product_langs = languages()
    out: dict[str, Any] = {"product_languages": product_langs, "low_confidence_below": LOW_CONFIDENCE}
    for lang in FILES:
        rows = []
        for n, page_lines in enumerate(pages_of(data_dir, lang, pages, lines)):
            truth = "\n".join(page_lines)
            for angle in (0.0, 2.0):
                image = as_bytes([render_page(page_lines, angle=angle, rtl=lang in ("ara", "urd"))], "PNG")
                read = ocr_image(image, f"{lang}-{n}")
                own = ocr_image(image, f"{lang}-{n}", langs=lang) if angle == 0 else None
                rows.append({"page": n, "angle": angle, "cer": round(cer(read.text, truth), 4),
                             "confidence": round(read.confidence, 1),
                             "cer_own_language": round(cer(own.text, truth), 4) if own else None})
        mean = sum(r["cer"] for r in rows) / len(rows)
        out[lang] = {"mean_cer": round(mean, 4), "pages": rows}
        print(lang, json.dumps(out[lang]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--lines", type=int, default=8)
    args = parser.parse_args()
    if not available():
        raise SystemExit("tesseract is not installed: run scripts/install_ocr.sh")
    result = run(args.pages, args.lines)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
