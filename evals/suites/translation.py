"""Machine-translation quality per language: chrF (assistant.translate.chrf) of each runnable backend's English
against NTREX-128's English source, translating NTREX's pol/ron/urd/arb/vie references (news sentences, read in place
under settings.eval_data). Dev = lines [0, n), held-out = lines [HELD_OUT_START, HELD_OUT_START + n) (other
documents). The threshold is chosen on dev (THRESHOLD_RULE); `--write` stores the per-language held-out results in
assistant/translate/quality.json, which `assistant translate` reads to decide which languages it translates by default.

    python -m evals.suites.translation --model qwen2.5-coder-0.5b --n 10 --write
    python -m evals.suites.translation --combine evals/results/translation_chrf_*.json --write  (merge runs)
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

LANGS = {"pol": "pl", "ron": "ro", "vie": "vi", "arb": "ar", "urd": "ur"}
HELD_OUT_START = 1000
THRESHOLD_RULE = ("twice the chrF that fluent, on-topic but unrelated English reaches on the dev split ({chance:.1f}: "
                  "the next sentence of the same story scored against the reference)")


def _lines(data_dir: Path, name: str) -> list[str]:
    path = data_dir / "ntrex" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (NTREX-128, expected under the eval_data setting)")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def _split(lines: list[str], start: int, n: int) -> list[int]:
    return [i for i in range(start, len(lines)) if lines[i]][:n]


def measure(settings: Settings, model: str, n: int, out: Path | None = None) -> dict[str, Any]:
    """chrF per language and split; with `out`, the results so far are written after each language (a long run
    stopped early keeps what it measured)."""
    from assistant.llm import local_backend

    settings.llm.local_model = model
    backend = local_backend(settings)
    backend.check()
    english = _lines(settings.eval_data, "newstest2019-src.eng.txt")
    results: dict[str, Any] = {}
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
        results[iso] = row
        if out is not None:
            out.write_text(json.dumps({model: results}, indent=2) + "\n", encoding="utf-8")
    if backend.runtime is not None:
        backend.runtime.stop()
    return results


def unrelated_chrf(settings: Settings, n: int) -> float:
    """chrF of fluent, on-topic but different English (the next sentence of the same news story) against the dev
    references: what any English sentence scores by chance."""
    english = _lines(settings.eval_data, "newstest2019-src.eng.txt")
    idx = [i for i in _split(english, 0, n) if i + 1 < len(english)]
    return corpus_chrf([english[i + 1] for i in idx], [english[i] for i in idx])


def quality_file(settings: Settings, results: dict[str, Any]) -> dict[str, Any]:
    """quality.json: the threshold from the dev split (THRESHOLD_RULE), held-out chrF per model and language."""
    n = max(row["dev"]["n"] for langs in results.values() for row in langs.values())
    chance = unrelated_chrf(settings, n)
    samples = {m: sorted({f"{r['dev']['n']}+{r['heldout']['n']}" for r in langs.values()}) for m, langs in
               results.items()}
    return {"threshold": round(2 * chance, 1), "rule": THRESHOLD_RULE.format(chance=chance),
            "sample": "NTREX-128 news sentences per language, dev+held-out: " + "; ".join(
                f"{m} {'/'.join(v)}" for m, v in samples.items()),
            "decision": "a language is translated by default when both its dev and held-out chrF reach the "
                        "threshold (samples are small: one lucky split is not enough)",
            "decision_chrf": {m: {lang: min(r["dev"]["chrf"], r["heldout"]["chrf"]) for lang, r in langs.items()}
                              for m, langs in results.items()},
            "heldout_chrf": {m: {lang: r["heldout"]["chrf"] for lang, r in langs.items()} for m, langs in
                             results.items()},
            "dev_chrf": {m: {lang: r["dev"]["chrf"] for lang, r in langs.items()} for m, langs in results.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", action="append", default=[])
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--out", type=Path, default=Path("evals/results/translation_chrf.json"))
    p.add_argument("--combine", type=Path, nargs="*", default=[], help="result files of earlier runs to merge")
    p.add_argument("--write", action="store_true", help=f"write {QUALITY_FILE.name} (the product's decision)")
    args = p.parse_args(argv)
    settings = load_settings()
    settings.llm.llamacpp_ctx = 2048
    result = {m: measure(settings, m, args.n, args.out if len(args.model) == 1 else None) for m in args.model}
    if result:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for path in args.combine:
        result.update(json.loads(path.read_text(encoding="utf-8")))
    if args.write:
        QUALITY_FILE.write_text(json.dumps(quality_file(settings, result), indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
