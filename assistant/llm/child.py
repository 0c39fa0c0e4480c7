"""The model runtime's own process: llama.cpp's OpenAI-compatible server (the prebuilt, portable `xllamacpp` wheel)
on 127.0.0.1, until the parent goes away. Started and watched by `assistant.llm.runtime.LocalRuntime`; a crash here
(segfault, out-of-memory kill) ends this process only. It exits within a second of its parent (a parent-pid
watch; PR_SET_PDEATHSIG is not used because it fires when the *thread* that started the child ends).

    python -m assistant.llm.child --model M.gguf --port N --threads T --ctx C --alias NAME [--memory-mb MB]
The API key the parent uses is read from the environment variable ASSISTANT_RUNTIME_KEY (never from argv).
"""

from __future__ import annotations

import argparse
import os
import resource
import time


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        limit = megabytes << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistant.llm.child")
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--alias", default="local")
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    if os.getppid() != args.parent:  # the parent is already gone
        return 0
    _limit_memory(args.memory_mb)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    key = os.environ.get("ASSISTANT_RUNTIME_KEY", "")
    if key:
        params.api_keys = [key]
    server = xllamacpp.Server(params)
    print(f"ready {server.listening_address}", flush=True)
    while os.getppid() == args.parent:
        time.sleep(1.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
