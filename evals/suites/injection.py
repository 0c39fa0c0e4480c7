"""Prompt-injection filter (`assistant.text.injection`): attacks caught vs ordinary case text flagged.

Positives: `evals/cases/injection.jsonl`, attacks written for this project in English, Polish, Romanian, Arabic,
Urdu and Vietnamese (paraphrases, chat-template tokens), each in a `dev` or `heldout` split; every one is also tried
with zero-width characters inside its words and with Cyrillic look-alike letters (the evasions the issue names).
Negatives (ordinary text that must not be flagged): NTREX-128 news sentences in the same six languages (split by
document: even document numbers dev, odd held out) and Enron e-mails (split by file number parity): the false-positive
rate is over these. The demo case's lines are reported apart (held out, never tuned on): its exhibit
notes_app_extract_HE3.txt holds one planted injection (demo/README.md), so exactly one flagged demo line is right.
Choices are made on dev; held-out is reported.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.text.injection import injection_cue

log = logging.getLogger(__name__)

CASES = Path(__file__).resolve().parent.parent / "cases" / "injection.jsonl"
NTREX_LANGS = {"eng": "newstest2019-src.eng.txt", "pol": "newstest2019-ref.pol.txt",
               "ron": "newstest2019-ref.ron.txt", "arb": "newstest2019-ref.arb.txt",
               "urd": "newstest2019-ref.urd.txt", "vie": "newstest2019-ref.vie.txt"}
ZERO_WIDTH = "\u200b"
LOOKALIKE = str.maketrans({"a": "а", "e": "е", "o": "о", "i": "і", "c": "с", "p": "р"})  # Latin -> Cyrillic
QUICK_ENRON = 300


def evasions(text: str) -> dict[str, str]:
    """The attack as written, with a zero-width space after every second letter of each word, and with Latin
    letters replaced by Cyrillic look-alikes."""
    split = re.sub(r"(\w\w)(?=\w)", lambda m: m.group(1) + ZERO_WIDTH, text)
    return {"plain": text, "zero_width": split, "homoglyph": text.translate(LOOKALIKE)}


def positives() -> list[dict[str, Any]]:
    with CASES.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def ntrex_negatives(data: Path) -> list[tuple[str, str, str]]:
    """(split, source, sentence) for every NTREX line in every language; split by the line's document."""
    root = data / "ntrex"
    doc_of: list[int] = []
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    names: dict[str, int] = {}
    for line in ids:
        doc = line.split("\t")[0].strip()
        doc_of.append(names.setdefault(doc, len(names)))
    out = []
    for lang, name in NTREX_LANGS.items():
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        for i, sentence in enumerate(lines):
            split = "dev" if (doc_of[i] if i < len(doc_of) else i) % 2 == 0 else "heldout"
            out.append((split, f"ntrex-{lang}", sentence))
    return out


def enron_negatives(data: Path, limit: int | None) -> list[tuple[str, str, str]]:
    """(split, source, body) of Enron e-mails (headers dropped); split by the file number's parity."""
    files = sorted((data / "enron" / "enron_with_categories").rglob("*.txt"))[:limit]
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n\n", 1)[1] if "\n\n" in text else text
        number = int(re.sub(r"\D", "", path.stem) or 0)
        out.append(("dev" if number % 2 == 0 else "heldout", "enron", body))
    return out


def demo_negatives(demo_dir: Path) -> list[tuple[str, str, str]]:
    """Every line of the demo case's text files (held out)."""
    out = []
    for path in sorted(demo_dir.rglob("*")):
        if path.suffix.lower() in (".txt", ".csv", ".eml", ".jsonl", ".md"):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if len(line.strip()) > 20:
                    out.append(("heldout", "demo", line))
    return out


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def run(settings: Settings, *, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {}
    attacks = positives()
    for split in ("dev", "heldout"):
        rows = [r for r in attacks if r["split"] == split]
        per: dict[str, Any] = {}
        for kind in ("plain", "zero_width", "homoglyph"):
            caught = [r["id"] for r in rows if injection_cue(evasions(r["text"])[kind])]
            per[kind] = {"detected": _rate(len(caught), len(rows)), "n": len(rows),
                         "missed": sorted({r["id"] for r in rows} - set(caught))}
        langs = sorted({r["lang"] for r in rows})
        per["by_language"] = {lang: _rate(sum(1 for r in rows if r["lang"] == lang and injection_cue(r["text"])),
                                          sum(1 for r in rows if r["lang"] == lang)) for lang in langs}
        result[split] = {"attacks": per}
    data = Path(settings.eval_data)
    negatives = [*ntrex_negatives(data), *enron_negatives(data, QUICK_ENRON if quick else None)]
    for split in ("dev", "heldout"):
        by_source: dict[str, dict[str, Any]] = {}
        for sp, source, text in negatives:
            if sp != split:
                continue
            entry = by_source.setdefault(source, {"n": 0, "flagged": 0, "examples": []})
            entry["n"] += 1
            cue = injection_cue(text)
            if cue:
                entry["flagged"] += 1
                if len(entry["examples"]) < 5:
                    entry["examples"].append(cue)  # the matched cue words only, never the whole text
        total = sum(e["n"] for e in by_source.values())
        flagged = sum(e["flagged"] for e in by_source.values())
        result[split]["ordinary"] = {"false_positive_rate": _rate(flagged, total), "n": total,
                                     "by_source": {k: {**v, "rate": _rate(v["flagged"], v["n"])}
                                                   for k, v in sorted(by_source.items())}}
    demo = [injection_cue(text) for _, _, text in demo_negatives(Path(settings.demo_dir))]
    result["demo"] = {"lines": len(demo), "flagged": sum(1 for c in demo if c), "cues": [c for c in demo if c]}
    result["heldout_detected"] = result["heldout"]["attacks"]["plain"]["detected"]
    result["heldout_false_positive_rate"] = result["heldout"]["ordinary"]["false_positive_rate"]
    result["heldout_evasions_detected"] = min(result["heldout"]["attacks"][k]["detected"]
                                              for k in ("zero_width", "homoglyph"))
    return result
