"""How often charset detection (assistant/loaders/encoding.py) decodes a legacy-encoded file right, keeps it aside,
or decodes it wrongly, per language and code page, at several confidence thresholds.

    .venv/bin/python -m evals.encoding_detection [--files 60]

Files are made of 1, 3 or 10 consecutive NTREX-128 sentences (`eval_data`/ntrex: pol, ron, arb, urd, vie), encoded in
the legacy pages those languages were written in and as UTF-16 and UTF-32 without a byte-order mark. "right" = the
decoded text equals the original (NFC) and the confidence reaches the threshold; "aside" = below the threshold (the
file is reported, not ingested); "WRONG" = a different text above the threshold: mojibake that would be ingested.
Results: evals/results/encoding_detection.json and printed.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path
from typing import Any

from assistant.config import load_settings
from assistant.loaders.encoding import MIN_CONFIDENCE, detect

SOURCES = {"pol": "newstest2019-ref.pol.txt", "ron": "newstest2019-ref.ron.txt", "ara": "newstest2019-ref.arb.txt",
           "urd": "newstest2019-ref.urd.txt", "vie": "newstest2019-ref.vie.txt"}
PAGES = {"pol": ("cp1250", "iso8859_2"), "ron": ("cp1250", "iso8859_16"), "ara": ("cp1256", "iso8859_6"),
         "urd": ("cp1256",), "vie": ("cp1258",)}
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
OUT = Path(__file__).resolve().parent / "results" / "encoding_detection.json"


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def cp1258_form(text: str) -> str:
    """How cp1258 writes Vietnamese: base letters precomposed (â ê ô ă ơ ư đ), tone marks as combining marks."""
    out = []
    for char in _nfc(text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(m for m in parts[1:] if m in _TONES)
        out.append(_nfc(parts[0] + "".join(m for m in parts[1:] if m not in _TONES)) + tones)
    return "".join(out)


def files_of(lines: list[str], size: int, count: int) -> list[str]:
    return ["\n".join(lines[i * size:(i + 1) * size]) for i in range(count) if (i + 1) * size <= len(lines)]


def run(count: int) -> dict[str, Any]:
    data = load_settings().eval_data / "ntrex"
    out: dict[str, Any] = {"min_confidence": MIN_CONFIDENCE}
    for lang, name in SOURCES.items():
        lines = [line.strip() for line in (data / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        for encoding in (*PAGES[lang], "utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"):
            form = cp1258_form if encoding == "cp1258" else _nfc
            usable = [line for line in lines if _encodable(form(line), encoding)]
            for size in (1, 3, 10):
                results = []
                for text in files_of(usable, size, count):
                    raw = form(text).encode(encoding)
                    found = detect(raw)
                    results.append((_nfc(found.text) == _nfc(text), found.confidence))
                row = {}
                for t in THRESHOLDS:
                    right = sum(1 for ok, c in results if ok and c >= t)
                    aside = sum(1 for _, c in results if c < t)
                    row[str(t)] = {"right": right, "aside": aside, "WRONG": len(results) - right - aside}
                out[f"{lang}/{encoding}/{size}"] = {"files": len(results), **row}
                print(lang, encoding, size, len(results), json.dumps(row[str(MIN_CONFIDENCE)]), flush=True)
    return out


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60, help="files per language, code page and size")
    args = parser.parse_args()
    result = run(args.files)
    totals = {str(t): {k: sum(v[str(t)][k] for key, v in result.items() if isinstance(v, dict) and key != "x")
                       for k in ("right", "aside", "WRONG")} for t in THRESHOLDS}
    result["totals"] = totals
    print("totals per threshold:", json.dumps(totals))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
