"""Local model speed through the product's runtime (a child llama.cpp server, xllamacpp): start-up time, time to
first token (TTFT), prompt and generation tokens/s, per model and thread count, with the real answer prompt built
from the demo case's usual top passages.

    .venv/bin/python benchmarks/bench_llm.py [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--threads 1,2]
                                             [--questions 3] [--top-k 8] [--max-tokens 120]

Token counts and server-side rates come from the server's own `timings` (last streamed event); TTFT is measured
here, from sending the request to the first streamed piece. The load average is printed before and after: llama.cpp
threads spin while they wait for each other, so a busy machine slows a 2-thread run far more than a 1-thread run.
Results: benchmarks/results/llm.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.prompts import render_answer_messages
from assistant.config import load_settings
from assistant.llm.models import resolve_model
from assistant.llm.runtime import LocalRuntime
from assistant.offline import apply_offline_env

QUESTIONS = [
    "What registration was the silver Vauxhall Corsa?",
    "Who was using the phone number 07700 900418?",
    "Where was Kacper found on 22 March?",
    "What did the search of the flat find?",
    "When did Kacper first go missing?",
]
RESULTS = Path(__file__).resolve().parent / "results" / "llm.json"


def demo_prompts(questions: int, top_k: int) -> list[list[dict[str, str]]]:
    """The answer prompt for the first `questions` demo questions, over the passages the product retrieves."""
    from assistant.app import App

    settings = load_settings()
    settings.llm.backend = "extractive"
    with tempfile.TemporaryDirectory(prefix="bench_llm_") as tmp:
        app = App(settings.model_copy(update={"index_dir": Path(tmp)}))
        app.ingest([settings.demo_dir], settings.demo_case, progress=False)
        return [render_answer_messages(q, app.retrieve(settings.demo_case, q, top_k=top_k))
                for q in QUESTIONS[:questions]]


def one_request(runtime: LocalRuntime, messages: list[dict[str, str]], max_tokens: int) -> dict[str, float]:
    import httpx

    body = {"model": runtime.alias, "messages": messages, "stream": True, "max_tokens": max_tokens,
            "temperature": 0.0}
    headers = {"Authorization": f"Bearer {runtime.api_key}"}
    started = time.perf_counter()
    first = -1.0
    timings: dict[str, Any] = {}
    with httpx.stream("POST", f"{runtime.base_url}/chat/completions", json=body, headers=headers, timeout=900,
                      trust_env=False) as response:
        for line in response.iter_lines():
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            event = json.loads(line[5:])
            if first < 0 and any((c.get("delta") or {}).get("content") for c in event.get("choices") or []):
                first = time.perf_counter() - started
            timings = event.get("timings") or timings
    return {"ttft_s": round(first, 2), "total_s": round(time.perf_counter() - started, 2),
            "prompt_tokens": timings.get("prompt_n", 0), "generated_tokens": timings.get("predicted_n", 0),
            "prompt_tok_s": round(timings.get("prompt_per_second", 0.0), 1),
            "gen_tok_s": round(timings.get("predicted_per_second", 0.0), 1)}


def bench(model: str, threads: int, prompts: list[list[dict[str, str]]], max_tokens: int) -> dict[str, Any]:
    settings = load_settings()
    path, why = resolve_model(model, settings.cache_dir)
    if path is None:
        return {"model": model, "threads": threads, "skipped": why}
    runtime = LocalRuntime(path, alias=path.stem, threads=threads, n_ctx=settings.llm.llamacpp_ctx, memory_mb=0,
                           start_timeout_s=600, log_dir=Path(tempfile.mkdtemp(prefix="bench_llm_log_")))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    runtime.ensure_started()
    startup = time.perf_counter() - started
    try:
        runs = [one_request(runtime, messages, max_tokens) for messages in prompts]
    finally:
        runtime.stop()

    def median(key: str) -> float:
        return round(statistics.median(float(r[key]) for r in runs), 2)

    return {"model": model, "threads": threads, "startup_s": round(startup, 2), "runs": runs,
            "median": {k: median(k) for k in ("ttft_s", "total_s", "prompt_tokens", "prompt_tok_s", "gen_tok_s")},
            "loadavg_before": round(load_before, 2), "loadavg_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=120)
    args = parser.parse_args()
    apply_offline_env()
    prompts = demo_prompts(args.questions, args.top_k)
    results = []
    for model in args.models.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            result = bench(model, threads, prompts, args.max_tokens)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "runs"}), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"top_k": args.top_k, "max_tokens": args.max_tokens, "results": results}, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
