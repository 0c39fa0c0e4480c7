"""Cost of the role check (`assistant.verify.roles`: the spaCy md dependency parse of claim and evidence) in the
verifier, as ratios: verification of HotpotQA drafts with and without it, parse cache cleared before every repeat (every
sentence parsed afresh, the cost a new answer pays) and kept (the cost of re-checking the same sentences). Also the
one-off model load. Embeddings are cached (a warm run), so this measures the checks, not the embedding model.

    .venv/bin/python benchmarks/bench_roles.py [--questions 40] [--repeat 3]

Reads ../shared/datasets/hotpotqa through ASSISTANT_EVAL_DATA like the eval suites; writes
benchmarks/results/roles.json. Timings are medians over repeats; the ratios are what to compare between machines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import load_settings
from assistant.index.embedding import Embedder
from assistant.offline import apply_offline_env
from assistant.verify import roles, support, verifier
from benchmarks.bench_answer import median_ms
from evals.suites.verifier import build_cases

RESULTS = Path(__file__).resolve().parent / "results" / "roles.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    apply_offline_env()
    settings = load_settings()
    data = json.loads((settings.eval_data / "hotpotqa" / "hotpotqa_train.json").read_text(encoding="utf-8"))
    cases = build_cases(data[: args.questions])
    embedder = Embedder(settings.embedding, cache_dir=settings.cache_dir)

    def verify_all() -> None:
        for case in cases:
            verifier.verify_draft(case["draft"], case["p"], embedder=embedder, settings=settings.answer)

    start = time.perf_counter()
    roles.predicates("The model is loaded once.")
    out: dict[str, Any] = {"drafts": len(cases), "model_load_s": time.perf_counter() - start}
    verify_all()  # warm the embedding cache
    out["verify_ms_per_draft_parse_cold"] = median_ms(verify_all, len(cases), args.repeat,
                                                       roles.predicates.cache_clear)
    out["verify_ms_per_draft_parse_cached"] = median_ms(verify_all, len(cases), args.repeat)
    check = support.conflict
    support.conflict = lambda *a, **k: None
    out["verify_ms_per_draft_without_roles"] = median_ms(verify_all, len(cases), args.repeat)
    support.conflict = check
    out["roles_cost_ratio_cold"] = out["verify_ms_per_draft_parse_cold"] / out["verify_ms_per_draft_without_roles"]
    out["roles_cost_ratio_cached"] = (out["verify_ms_per_draft_parse_cached"]
                                      / out["verify_ms_per_draft_without_roles"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for key, value in out.items():
        print(f"{key:40s} {value:.3f}" if isinstance(value, float) else f"{key:40s} {value}")


if __name__ == "__main__":
    main()
