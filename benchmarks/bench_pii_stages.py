"""Where Presidio's time goes when the product tags chunks: the spaCy pipeline (per component), each recognizer,
and the rest of `analyze` (context enhancement, merging), against the whole `PiiTagger.tag_many` on the same text.

    .venv/bin/python benchmarks/bench_pii_stages.py [--files 40] [--chunks 120] [--corpus DIR]

Text: the first `--files` Enron e-mails under the eval_data setting (or `--corpus`), cut into 900-character pieces
(about one prose chunk), first `--chunks` of them. No profiler: each stage is timed on its own with
`time.perf_counter`, so the parts add up to roughly the whole. Compare shares, not seconds, on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.offline import apply_offline_env
from assistant.pii.tagger import PiiTagger

PIECE = 900  # characters; prose chunks of 200 wordpieces measured ~800-1,000 characters of English e-mail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--chunks", type=int, default=120)
    parser.add_argument("--corpus", type=Path, default=None)
    args = parser.parse_args()
    apply_offline_env()
    settings = load_settings()
    root = args.corpus or settings.eval_data / "enron" / "enron_with_categories"
    files = sorted(root.rglob("*.txt"))[: args.files]
    texts: list[str] = []
    for path in files:
        body = path.read_text(encoding="utf-8", errors="replace")
        texts.extend(body[i : i + PIECE] for i in range(0, len(body), PIECE))
    texts = [t for t in texts if t.strip()][: args.chunks]
    tagger = PiiTagger(settings.pii)
    tagger.tag_many(texts[:4])  # build the analyzer and warm spaCy up
    analyzer = tagger.analyzer
    nlp = analyzer.nlp_engine.nlp["en"]

    start = time.perf_counter()
    tagged = tagger.tag_many(texts)
    whole = time.perf_counter() - start

    pipes: dict[str, float] = {}
    docs = [nlp.make_doc(t) for t in texts]
    for name, proc in nlp.pipeline:
        if name in nlp.disabled:
            continue
        start = time.perf_counter()
        docs = list(proc.pipe(docs, batch_size=32)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
        pipes[name] = round(time.perf_counter() - start, 2)

    artifacts = [a for _, a in analyzer.nlp_engine.process_batch(texts, "en", batch_size=32)]
    recognizers: dict[str, float] = {}
    for rec in analyzer.registry.recognizers:
        start = time.perf_counter()
        for text, art in zip(texts, artifacts, strict=True):
            rec.analyze(text, rec.supported_entities, art)
        recognizers[rec.name] = recognizers.get(rec.name, 0.0) + time.perf_counter() - start
    start = time.perf_counter()
    for text, art in zip(texts, artifacts, strict=True):
        analyzer.analyze(text=text, language="en", nlp_artifacts=art, score_threshold=settings.pii.min_score)
    analyze = time.perf_counter() - start

    rec_total = sum(recognizers.values())
    out = {
        "chunks": len(texts), "chars": sum(map(len, texts)), "entities": sum(map(len, tagged)),
        "load": round(os.getloadavg()[0], 1),
        "tag_many_s": round(whole, 2), "chunks_per_s": round(len(texts) / whole, 2),
        "spacy_components_s": pipes, "spacy_total_s": round(sum(pipes.values()), 2),
        "analyze_given_nlp_s": round(analyze, 2), "recognizers_total_s": round(rec_total, 2),
        "analyze_rest_s (context enhancement, merging)": round(analyze - rec_total, 2),
        "recognizers_s": {k: round(v, 2) for k, v in sorted(recognizers.items(), key=lambda kv: -kv[1])[:10]},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
