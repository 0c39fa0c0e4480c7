"""Embedding throughput of the packaged MiniLM at 1 and 2 torch threads, as a ratio: whether a process that runs
alone on a 2-core machine (CI's eval, `make eval-ci`) should use both cores. The product's default stays 1 thread
(`embedding.torch_threads`): under load, spinning intra-op threads lose to one.

    .venv/bin/python benchmarks/bench_torch_threads.py [--long 96] [--short 192] [--repeat 2]

Long texts are SciFact abstracts (most fill the 256-wordpiece window), short ones SciFact claims; read through the
eval_data setting. Run it on an otherwise idle machine: the ratio is what to compare between machines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.index.embedding import Embedder
from assistant.offline import apply_offline_env
from evals.datasets import load_scifact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", type=int, default=96)
    parser.add_argument("--short", type=int, default=192)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    apply_offline_env()
    import torch

    settings = load_settings()
    sf = load_scifact(settings.eval_data)
    sets = {"long": [d.text for d in sf.corpus[: args.long]], "short": list(sf.queries.values())[: args.short]}
    embedder = Embedder(settings.embedding)  # no cache: every text is encoded
    embedder.embed_query("warm up")
    rates: dict[int, dict[str, list[float]]] = {}
    for _ in range(args.repeat):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for name, texts in sets.items():
                start = time.perf_counter()
                embedder.embed_texts(texts)
                rates.setdefault(threads, {}).setdefault(name, []).append(len(texts) / (time.perf_counter() - start))
    best = {t: {n: round(max(v), 1) for n, v in r.items()} for t, r in rates.items()}
    report = {"texts_per_s": best, "ratio_2_over_1": {n: round(best[2][n] / best[1][n], 2) for n in sets}}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
