"""Machine-translation quality per language: chrF (assistant.translate.chrf) of each runnable backend's English
against NTREX-128's English source, translating NTREX's pol/ron/urd/arb/vie references (news sentences, read in place
under settings.eval_data). Dev = lines [0, n), held-out = lines [HELD_OUT_START, HELD_OUT_START + n) (other
documents). The threshold is chosen on dev (THRESHOLD_RULE); `--write` stores the per-language results in
assistant/translate/quality.json, which `assistant translate` reads to decide which languages it translates by default.

    python -m evals.suites.translation --model qwen2.5-coder-0.5b --n 20 --write
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from assistant.config import Settings, load_settings
from assistant.translate.chrf import corpus_chrf
from assistant.translate.quality import QUALITY_FILE
from assistant.translate.translator import TranslationRefused, translate_text

LANGS = {"pol": "pl", "ron": "ro", "urd": "ur", "arb": "ar", "vie": "vi"}
HELD_OUT_START = 1000


def _lines(data_dir: Path, name: str) -> list[str]:
    path = data_dir / "ntrex" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (NTREX-128, expected under the eval_data setting)")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def _split(lines: list[str], start: int, n: int) -> list[int]:
    return [i for i in range(start, len(lines)) if lines[i]][:n]


def measure(settings: Settings, model: str, n: int) -> dict[str, Any]:
    from assistant.llm import local_backend

    settings.llm.local_model = model
    backend = local_backend(settings)
    backend.check()
    english = _lines(settings.eval_data, "newstest2019-src.eng.txt")
    out: dict[str, Any] = {}
    for code, iso in LANGS.items():
        foreign = _lines(settings.eval_data, f"newstest2019-ref.{code}.txt")
        row: dict[str, Any] = {}
        for split, start in (("dev", 0), ("heldout", HELD_OUT_START)):
            idx = _split(foreign, start, n)
            hyps: list[str] = []
            copy: list[str] = []
            t0 = time.perf_counter()
            for i in idx:
                try:
                    hyps.append(translate_text(backend, foreign[i], iso).text)
                except TranslationRefused:
                    hyps.append("")
                copy.append(foreign[i])
            refs = [english[i] for i in idx]
            row[split] = {"n": len(idx), "chrf": round(corpus_chrf(hyps, refs), 1),
                          "copy_chrf": round(corpus_chrf(copy, refs), 1),
                          "seconds": round(time.perf_counter() - t0, 1), "first_output": hyps[0] if hyps else ""}
            print(f"{model} {code} {split}: {row[split]}", file=sys.stderr, flush=True)
        out[iso] = row
    if backend.runtime is not None:
        backend.runtime.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", action="append", required=True)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("evals/results/translation_chrf.json"))
    args = p.parse_args(argv)
    settings = load_settings()
    settings.llm.llamacpp_ctx = 2048
    result = {m: measure(settings, m, args.n) for m in args.model}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"(product file: {QUALITY_FILE})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
